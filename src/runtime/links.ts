/**
 * Per-link fault rules for a live cluster: partitions, and drop, duplicate
 * and delay probabilities on directed links. The main thread keeps the whole
 * table; each worker holds only the rules of its outgoing links and applies
 * them itself before posting on its port, so faults add nothing to the data
 * path on the main thread and cost nothing on links without rules.
 */
import type { ActorId } from '../core/ids.js';

/** Faults on one directed link. Probabilities are per message. */
export interface LinkFaults {
  /** Probability that a message is lost. */
  readonly drop?: number;
  /** Probability that a message is delivered twice. */
  readonly dup?: number;
  /** Probability that a copy is held back, which also reorders it behind later traffic. */
  readonly delay?: number;
  /** A held-back copy waits a uniform 1..delayMs ms. Default 10. */
  readonly delayMs?: number;
}

/** The rule a sender applies to one outgoing link. */
export interface LinkRule extends Required<LinkFaults> {
  /** True while a partition separates the two ends: every message is lost. */
  readonly partitioned: boolean;
}

/** The rules of one sender's outgoing links, by receiver. Links with no rule are absent. */
export type OutgoingLinks = Readonly<Record<ActorId, LinkRule>>;

const NO_FAULTS: Required<LinkFaults> = { drop: 0, dup: 0, delay: 0, delayMs: 10 };

/** The main thread's table of link rules. */
export class LinkTable {
  /** Directed links cut by a partition, as from -> set of receivers. */
  private readonly cut = new Map<ActorId, Set<ActorId>>();
  private readonly faults = new Map<ActorId, Map<ActorId, Required<LinkFaults>>>();

  /** Cuts every link between a member of `a` and a member of `b`, both ways. */
  partition(a: readonly ActorId[], b: readonly ActorId[]): void {
    const cut = (from: ActorId, to: ActorId) => {
      if (from === to) return;
      const set = this.cut.get(from) ?? new Set();
      this.cut.set(from, set.add(to));
    };
    for (const x of a) {
      for (const y of b) {
        cut(x, y);
        cut(y, x);
      }
    }
  }

  /** Removes every partition (link faults stay). */
  heal(): void {
    this.cut.clear();
  }

  /** Sets the faults of link `from` -> `to`; all-zero faults remove the rule. */
  setFaults(from: ActorId, to: ActorId, faults: LinkFaults): void {
    const full = { ...NO_FAULTS, ...faults };
    const row = this.faults.get(from) ?? new Map<ActorId, Required<LinkFaults>>();
    if (full.drop === 0 && full.dup === 0 && full.delay === 0) row.delete(to);
    else row.set(to, full);
    this.faults.set(from, row);
  }

  /** The rules `from` applies to its outgoing links. */
  outgoing(from: ActorId): OutgoingLinks {
    const rules: Record<ActorId, LinkRule> = {};
    for (const [to, f] of this.faults.get(from) ?? []) rules[to] = { ...f, partitioned: false };
    for (const to of this.cut.get(from) ?? []) rules[to] = { ...(rules[to] ?? NO_FAULTS), partitioned: true };
    return rules;
  }
}

/**
 * What happens to one message on a link with `rule`: `[]` drops it, `[d]`
 * sends it once after `d` ms (0: at once), `[d1, d2]` sends it twice.
 */
export function linkDelays(rule: LinkRule | undefined, random: () => number): number[] {
  if (rule === undefined) return [0];
  if (rule.partitioned || random() < rule.drop) return [];
  const copies = random() < rule.dup ? 2 : 1;
  return Array.from({ length: copies }, () => (random() < rule.delay ? 1 + Math.floor(random() * rule.delayMs) : 0));
}
