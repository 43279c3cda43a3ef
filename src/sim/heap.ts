/**
 * A binary min-heap ordered by (at, seq): the simulator's event queue. Ties in
 * time break by insertion order, which keeps runs deterministic.
 */

/** An entry of the queue. */
export interface Timed {
  readonly at: number;
  readonly seq: number;
}

/** A min-heap of {@link Timed} entries. */
export class EventHeap<T extends Timed> {
  private readonly items: T[] = [];

  /** Number of entries. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an entry. */
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i] as T, a[parent] as T)) break;
      [a[i], a[parent]] = [a[parent] as T, a[i] as T];
      i = parent;
    }
  }

  /** The earliest entry without removing it, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes and returns the earliest entry, or undefined when empty. */
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l] as T, a[m] as T)) m = l;
        if (r < a.length && less(a[r] as T, a[m] as T)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as T, a[i] as T];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Timed, y: Timed): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
