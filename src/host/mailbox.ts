/**
 * An actor's mailbox: a bounded FIFO queue of inputs waiting to be stepped.
 *
 * Overflow policy: when the mailbox is full, the newest message (the one
 * arriving) is dropped and counted; what is already queued keeps its order.
 * To Paxos a dropped message is a lossy link, which it tolerates (proposers
 * retry), so a flood can slow an actor down but never make it unsafe or make
 * it run out of memory. Local inputs that must not be lost (timer firings and
 * client requests, which are few and not under a peer's control) bypass the
 * bound.
 */
export class Mailbox<T> {
  /** The queue: the first `count` slots of `items`. The array is kept from turn to turn (a turn allocates none), with `other` to swap in while one is drained. */
  private items: Array<T | undefined> = [];
  private other: Array<T | undefined> = [];
  private count = 0;
  /** Messages dropped because the mailbox was full. */
  overflowed = 0;

  constructor(
    /** Most messages the mailbox holds before it drops new ones. */
    readonly limit: number,
  ) {}

  /** How many inputs are queued. */
  get length(): number {
    return this.count;
  }

  /**
   * Queues `item` and returns true; when `bounded` and the mailbox is full,
   * drops `item` instead, counts it and returns false.
   */
  push(item: T, bounded = true): boolean {
    if (bounded && this.count >= this.limit) {
      this.overflowed++;
      return false;
    }
    this.items[this.count++] = item;
    return true;
  }

  /** Takes every queued input, oldest first, as a new array. */
  takeAll(): T[] {
    const taken = this.items.slice(0, this.count) as T[];
    this.items.fill(undefined, 0, this.count);
    this.count = 0;
    return taken;
  }

  /**
   * Takes every queued input and calls `visit` with each, oldest first.
   * Inputs queued meanwhile wait for the next drain.
   */
  drain(visit: (item: T) => void): void {
    const items = this.items;
    const n = this.count;
    this.items = this.other;
    this.count = 0;
    try {
      for (let i = 0; i < n; i++) visit(items[i] as T);
    } finally {
      // Emptied for reuse (no reference to a stepped input is kept); what a throwing visit left goes with the actor it crashes.
      items.fill(undefined, 0, n);
      this.other = items;
    }
  }
}
