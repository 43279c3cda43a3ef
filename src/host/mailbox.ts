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
  private items: T[] = [];
  /** Messages dropped because the mailbox was full. */
  overflowed = 0;

  constructor(
    /** Most messages the mailbox holds before it drops new ones. */
    readonly limit: number,
  ) {}

  /** How many inputs are queued. */
  get length(): number {
    return this.items.length;
  }

  /**
   * Queues `item` and returns true; when `bounded` and the mailbox is full,
   * drops `item` instead, counts it and returns false.
   */
  push(item: T, bounded = true): boolean {
    if (bounded && this.items.length >= this.limit) {
      this.overflowed++;
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Takes every queued input, oldest first. */
  takeAll(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }
}
