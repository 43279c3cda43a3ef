/**
 * A linearizability checker for histories of the key-value store, where every
 * key is an independent register with read, write and compare-and-set.
 *
 * The search is Wing and Gong's, with Lowe's improvements (as in Knossos and
 * Porcupine):
 *
 * - Each key is checked on its own. Linearizability is compositional (Herlihy
 *   and Wing's locality), so a history is linearizable iff each key's
 *   sub-history is, and many small searches are exponentially cheaper than
 *   one big one.
 * - The invocations and returns of a key's operations form a doubly linked
 *   list in real-time order. The search walks it from the front: an operation
 *   whose invocation comes before the first remaining return may be
 *   linearized next, if the register model allows it; it is then lifted out
 *   of the list and the walk restarts from the front. Reaching a return whose
 *   operation is not yet linearized is a dead end: the last choice is undone
 *   (the operation goes back into the list) and the next candidate is tried.
 * - Lowe's memoization: a configuration is the set of linearized operations
 *   plus the register's value, and a configuration reached once is never
 *   explored again, because what can follow depends on nothing else.
 *
 * A cas that answered false (`swapped: false`) is an ok operation that needs
 * the register to hold anything but its `from`, and changes nothing.
 *
 * Operations with an unknown outcome (`info`) have no return, so they never
 * force anything; they may be linearized anywhere after their invocation, or
 * never. Before the search, an `info` write (or cas) is dropped when no
 * operation that could come after it reads (or compares against) the value it
 * puts: in a linearization it could then only block others, never enable one.
 * In the search, info operations are tried after the ok ones, alike ones
 * (same transition) in invocation order only, each only if the next operation
 * needs the value it puts, and the cache treats a configuration as seen when
 * one with the same ok operations and value but fewer info operations was.
 *
 * Cost: for a mostly sequential history the search is close to linear, since
 * at each point only the few overlapping operations are candidates and the
 * cache cuts orders that end in the same value. The worst case is still
 * exponential — checking linearizability is NP-complete — when many operations
 * overlap (c concurrent operations can be ordered c! ways, and the cache holds
 * up to 2^c sets per point), and above all when a key has many info
 * operations whose values are read later: each may or may not have taken
 * effect, at any time, and proving that no choice works means trying the
 * combinations. With a small value domain (values repeat, so every info write
 * may explain many reads) this bites early: on a key with ~1,500 operations
 * and 10 values, refuting a bad final read took 0.2 s with 2% info operations,
 * 2 s with 3% and over 20 s with 5%; with unique values, under 0.1 s. Hence the budget: when it runs out the answer is
 * `unknown`, never `linearizable`. Memory is bounded the same way: the cache
 * of configurations (typed arrays, see ConfigCache) holds at most
 * `maxConfigurations` per key, and reaching that answers `unknown` too.
 */
import { canonicalJson, type Value } from '../core/value.js';
import { describeOperation, pairOperations, type HistoryEvent, type Key, type Operation } from './history.js';

/** Limits on the search; without them it runs until it has an answer. */
export interface LinearizabilityOptions {
  /** Give up (answer `unknown`) after this many milliseconds for the whole check. */
  readonly timeoutMs?: number;
  /** Give up (answer `unknown`) after this many search steps on any one key. */
  readonly maxSteps?: number;
  /**
   * Give up (answer `unknown`) when the search of any one key has remembered
   * this many configurations (default {@link DEFAULT_MAX_CONFIGURATIONS}).
   * This bounds the checker's memory: each configuration takes a few dozen
   * bytes (more when a key has many operations in flight at once), outside
   * the JavaScript heap.
   */
  readonly maxConfigurations?: number;
}

/**
 * How many configurations the search of one key remembers at most, unless
 * {@link LinearizabilityOptions.maxConfigurations} says otherwise: about
 * 0.5 GB on a key with a few dozen operations in flight at once.
 */
export const DEFAULT_MAX_CONFIGURATIONS = 10_000_000;

/**
 * The verdict. `ok` is true only for a proof of linearizability, so `if
 * (result.ok)` never mistakes an exhausted budget for success.
 *
 * - `linearizable`: every key has a linearization.
 * - `not-linearizable`: `key` has none. `prefix` is the valid linearization
 *   of a start of its history that places the most ok operations, `state` the
 *   register's value after it, and `stuck` the ok operations that were
 *   candidates to come next: the register refuses every one of them in that
 *   state, and no info operation could change that. `reason` says this in a
 *   sentence.
 * - `unknown`: the budget ran out while checking `key` (and no other key was
 *   proven non-linearizable).
 *
 * `steps` counts search steps over all keys checked.
 */
export type LinearizabilityResult =
  | { readonly ok: true; readonly status: 'linearizable'; readonly steps: number }
  | {
      readonly ok: false;
      readonly status: 'not-linearizable';
      readonly key: Key;
      readonly reason: string;
      readonly prefix: readonly Operation[];
      readonly state: Value;
      readonly stuck: readonly Operation[];
      readonly steps: number;
    }
  | { readonly ok: false; readonly status: 'unknown'; readonly key: Key; readonly reason: string; readonly steps: number };

/**
 * Checks that a history (events, or operations from {@link pairOperations})
 * is linearizable with respect to a register per key, every register starting
 * at `null`. Operations passed directly must have `call < return`; an
 * invocation and a return at the same position count as overlapping.
 */
export function checkLinearizable(history: readonly HistoryEvent[] | readonly Operation[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  const ops = isEvents(history) ? pairOperations(history) : history;
  const byKey = new Map<Key, Operation[]>();
  for (const op of ops) {
    if (!(op.call < op.return)) throw new Error(`operation ${describeOperation(op)}: call must come before return`);
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const budget = {
    deadline: performance.now() + (options.timeoutMs ?? Infinity),
    maxSteps: options.maxSteps ?? Infinity,
    maxConfigurations: options.maxConfigurations ?? DEFAULT_MAX_CONFIGURATIONS,
  };
  let steps = 0;
  let unknown: { key: Key; reason: string } | undefined;
  for (const [key, keyOps] of byKey) {
    const outcome = checkRegister(keyOps, budget);
    steps += outcome.steps;
    if (outcome.kind === 'fail') {
      const { prefix, state, stuck } = outcome;
      return { ok: false, status: 'not-linearizable', key, reason: explain(key, prefix, state, stuck), prefix, state, stuck, steps };
    }
    if (outcome.kind === 'unknown' && unknown === undefined) {
      unknown = { key, reason: `key ${JSON.stringify(key)}: gave up after ${outcome.steps} search steps (${outcome.why}) without deciding` };
    }
  }
  return unknown === undefined ? { ok: true, status: 'linearizable', steps } : { ok: false, status: 'unknown', ...unknown, steps };
}

function isEvents(history: readonly HistoryEvent[] | readonly Operation[]): history is readonly HistoryEvent[] {
  return history.length > 0 && 'type' in (history[0] as object);
}

function explain(key: Key, prefix: readonly Operation[], state: Value, stuck: readonly Operation[]): string {
  const shown = stuck.slice(0, 5).map((op) => `${describeOperation(op)} needs ${op.swapped === false ? 'anything but ' : ''}${canonicalJson(needed(op))}`);
  if (stuck.length > shown.length) shown.push(`and ${stuck.length - shown.length} more`);
  return (
    `key ${JSON.stringify(key)} is not linearizable: the longest linearizable prefix has ${prefix.length} operation(s) ` +
    `and leaves the register at ${canonicalJson(state)}, and no operation that could come next can take effect: ${shown.join('; ')}`
  );
}

/** The register value a read or cas requires, or (a cas that answered false) rules out; stuck operations are never writes. */
function needed(op: Operation): Value {
  return op.f === 'cas' ? ((op.value as Value[])[0] ?? null) : op.value;
}

type RegisterOutcome =
  | { kind: 'ok'; steps: number }
  | { kind: 'fail'; steps: number; prefix: Operation[]; state: Value; stuck: Operation[] }
  | { kind: 'unknown'; steps: number; why: string };

/** Checks one key's operations against a register starting at null. */
function checkRegister(input: readonly Operation[], budget: { deadline: number; maxSteps: number; maxConfigurations: number }): RegisterOutcome {
  // Values are interned as small integers so that a configuration's register
  // value is cheap to compare and to put in a cache key. Id 0 is null.
  const valueIds = new Map<string, number>([['null', 0]]);
  const values: Value[] = [null];
  const intern = (v: Value) => {
    const text = canonicalJson(v);
    let id = valueIds.get(text);
    if (id === undefined) {
      id = values.length;
      valueIds.set(text, id);
      values.push(v);
    }
    return id;
  };
  // Each operation becomes a transition: it needs the register to hold `need`
  // (-1: anything) and not to hold `not` (-1: no such rule), and leaves it
  // holding `put` (-1: unchanged). A cas that answered false saw a value other
  // than its `from` and changed nothing.
  const transition = (op: Operation) => {
    if (op.f === 'read') return { need: intern(op.value), not: -1, put: -1 };
    if (op.f === 'write') return { need: -1, not: -1, put: intern(op.value) };
    const [from, to] = op.value as [Value, Value];
    if (op.swapped === false) return { need: -1, not: intern(from), put: -1 };
    return { need: intern(from), not: -1, put: intern(to) };
  };
  // An info operation is only worth linearizing right before an operation
  // that needs the value it puts (anywhere else it is overwritten unseen, or
  // blocks), and that operation must not have returned before the info one
  // was invoked. So for each value: the latest return of an operation that
  // needs it. A cas that answered false needs any value but its `from`, so
  // for those: the latest return, and the latest among those with another
  // `from` than the latest's.
  const all = input.map((op) => ({ op, ...transition(op) }));
  const latestNeed = new Map<number, number>();
  for (const { op, need } of all) if (need >= 0) latestNeed.set(need, Math.max(latestNeed.get(need) ?? -Infinity, op.return));
  let notLatest = { not: -1, at: -Infinity };
  for (const { op, not } of all) if (not >= 0 && op.return > notLatest.at) notLatest = { not, at: op.return };
  let notOther = -Infinity;
  for (const { op, not } of all) if (not >= 0 && not !== notLatest.not) notOther = Math.max(notOther, op.return);
  const latestUse = (value: number) => Math.max(latestNeed.get(value) ?? -Infinity, value !== notLatest.not ? notLatest.at : notOther);
  const byCall = (a: { op: Operation }, b: { op: Operation }) => a.op.call - b.op.call;
  const okOps = all.filter(({ op }) => op.status === 'ok').sort(byCall);
  const infoOps = all
    .filter(({ op, need, put }) => op.status === 'info' && put >= 0 && put !== need && latestUse(put) >= op.call)
    .sort(byCall);
  // Ok operations are numbered first, in invocation order, so the set of
  // linearized ones is nearly always a full prefix plus a short window.
  const ordered = [...okOps, ...infoOps];
  const ops = ordered.map(({ op }) => op);
  const need = Int32Array.from(ordered, (t) => t.need);
  const not = Int32Array.from(ordered, (t) => t.not);
  const put = Int32Array.from(ordered, (t) => t.put);
  const m = okOps.length;
  const n = ops.length;
  // Info operations with the same transition are interchangeable, and the
  // earlier-invoked one is available whenever the later one is, so the search
  // only linearizes one after its `twin` (the previous such one) is
  // linearized: a set of k alike info operations then costs k + 1 choices
  // rather than 2^k.
  const twin = new Int32Array(n).fill(-1);
  const lastWith = new Map<string, number>();
  for (let i = m; i < n; i++) {
    const same = `${need[i]},${put[i]}`;
    twin[i] = lastWith.get(same) ?? -1;
    lastWith.set(same, i);
  }

  // The entry list: node 0 is the head; operation i has call node 2i+1 and,
  // if it is ok, return node 2i+2. NIL ends the list.
  const NIL = -1;
  const next = new Int32Array(2 * n + 1).fill(NIL);
  const prev = new Int32Array(2 * n + 1).fill(NIL);
  const timeline: { node: number; at: number; isReturn: boolean }[] = [];
  ops.forEach((op, i) => {
    timeline.push({ node: 2 * i + 1, at: op.call, isReturn: false });
    if (i < m) timeline.push({ node: 2 * i + 2, at: op.return, isReturn: true });
  });
  timeline.sort((a, b) => a.at - b.at || Number(a.isReturn) - Number(b.isReturn));
  let last = 0;
  for (const { node } of timeline) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  const opOf = (node: number) => (node - 1) >> 1;
  const isCall = (node: number) => (node & 1) === 1;
  const unlink = (node: number) => {
    next[prev[node] as number] = next[node] as number;
    if (next[node] !== NIL) prev[next[node] as number] = prev[node] as number;
  };
  const relink = (node: number) => {
    next[prev[node] as number] = node;
    if (next[node] !== NIL) prev[next[node] as number] = node;
  };
  // Lifting unlinks call then return; undoing relinks in the reverse order,
  // which restores the list exactly because undos happen in stack order.
  const lift = (i: number) => {
    unlink(2 * i + 1);
    if (i < m) unlink(2 * i + 2);
  };
  const unlift = (i: number) => {
    if (i < m) relink(2 * i + 2);
    relink(2 * i + 1);
  };

  // The linearized set, as bitsets over ok and info operations. `low` is the
  // first ok operation not linearized and `high` one past the last one that
  // is, so a cache key only needs the words in between.
  const okBits = new Uint32Array(Math.ceil(m / 32));
  const infoBits = new Uint32Array(Math.ceil((n - m) / 32));
  const has = (i: number) => (i < m ? ((okBits[i >> 5] as number) >>> (i & 31)) & 1 : ((infoBits[(i - m) >> 5] as number) >>> ((i - m) & 31)) & 1) === 1;
  let low = 0;
  let high = 0;
  const mark = (i: number) => {
    if (i >= m) {
      infoBits[(i - m) >> 5] = (infoBits[(i - m) >> 5] as number) | (1 << ((i - m) & 31));
      return;
    }
    okBits[i >> 5] = (okBits[i >> 5] as number) | (1 << (i & 31));
    cache.flip(i);
    if (i + 1 > high) high = i + 1;
    while (low < m && has(low)) low++;
  };
  const unmark = (i: number) => {
    if (i >= m) {
      infoBits[(i - m) >> 5] = (infoBits[(i - m) >> 5] as number) & ~(1 << ((i - m) & 31));
      return;
    }
    okBits[i >> 5] = (okBits[i >> 5] as number) & ~(1 << (i & 31));
    cache.flip(i);
    if (i < low) low = i;
    while (high > low && !has(high - 1)) high--;
  };
  // Lowe's cache, strengthened for info operations: a configuration is
  // covered when one with the same ok operations and value, but a subset of
  // its info operations, was reached before. Leaving an info operation out
  // only keeps more options open (it constrains nobody and can still be
  // linearized later), so whatever the covered one could reach, the other
  // could too. A configuration reached by an info operation is more
  // restricted (see the walk below), so it can be covered by either kind,
  // but covers only its own kind. The cache is keyed by the value (twice,
  // plus one after an info operation) and the ok operations' bitset, hashed
  // incrementally (see ConfigCache).
  const cache = new ConfigCache(okBits, infoBits, budget.maxConfigurations);
  const visit = (state: number, afterInfo: boolean): 'new' | 'seen' | 'full' => {
    const free = state * 2;
    if (!afterInfo) return cache.visit(free, low, high);
    if (cache.covered(free, low, high) || cache.covered(free + 1, low, high)) return 'seen';
    return cache.add(free + 1, low, high) ? 'new' : 'full';
  };

  // The linearization so far, as a linked stack: remembering the deepest one
  // reached is then just keeping a reference, however often it changes.
  interface Frame {
    readonly op: number;
    readonly before: number;
    readonly below: Frame | undefined;
  }
  let top: Frame | undefined;
  let state = 0;
  let remaining = m;
  let steps = 0;
  let best: { top: Frame | undefined; done: number; state: number; candidates: number[] } | undefined;
  // The walk over the candidates makes two passes: ok operations first, then
  // info ones, so that configurations with fewer info operations are reached
  // first and cover the ones with more. Right after an info operation only
  // an operation that needs the value it put may follow: were the next one a
  // write, the info operation would have been pointless, and a linearization
  // that includes it can do without it.
  let node = next[0] as number;
  let infoPass = false;

  while (remaining > 0) {
    if (steps >= budget.maxSteps) return { kind: 'unknown', steps, why: 'the step limit was reached' };
    steps++;
    if ((steps & 4095) === 0 && performance.now() > budget.deadline) return { kind: 'unknown', steps, why: 'the time limit was reached' };
    // While ok operations remain there is a return node ahead, so the walk
    // never runs off the end of the list.
    if (isCall(node)) {
      const i = opOf(node);
      const want = need[i] as number;
      const refuse = not[i] as number;
      const t = twin[i] as number;
      const ready = i < m ? !infoPass : infoPass && (t < 0 || has(t));
      const useful = want >= 0 || refuse >= 0 || top === undefined || top.op < m;
      if (ready && useful && (want < 0 || want === state) && refuse !== state) {
        const after = (put[i] as number) < 0 ? state : (put[i] as number);
        mark(i);
        const seen = visit(after, i >= m);
        if (seen === 'full') return { kind: 'unknown', steps, why: `the cache limit of ${budget.maxConfigurations} configurations was reached` };
        if (seen === 'new') {
          top = { op: i, before: state, below: top };
          state = after;
          lift(i);
          if (i < m) remaining--;
          node = next[0] as number;
          infoPass = false;
          continue;
        }
        unmark(i);
      }
      node = next[node] as number;
      continue;
    }
    // The second pass only when there are info operations to try.
    if (!infoPass && n > m) {
      infoPass = true;
      node = next[0] as number;
      continue;
    }
    // A return whose operation is not linearized: a dead end. The one with
    // the most ok operations linearized is the explanation if the search
    // fails: there every candidate ok operation is refused by the register,
    // even after any info operations (one allowed would have led further).
    if (best === undefined || m - remaining > best.done) {
      const candidates: number[] = [];
      for (let c = next[0] as number; isCall(c); c = next[c] as number) if (opOf(c) < m) candidates.push(opOf(c));
      best = { top, done: m - remaining, state, candidates };
    }
    if (top === undefined) {
      const prefix: Operation[] = [];
      for (let f = best.top; f !== undefined; f = f.below) prefix.push(ops[f.op] as Operation);
      prefix.reverse();
      const stuck = best.candidates.map((i) => ops[i] as Operation);
      return { kind: 'fail', steps, prefix, state: values[best.state] as Value, stuck };
    }
    const { op, before } = top;
    top = top.below;
    state = before;
    unmark(op);
    unlift(op);
    if (op < m) remaining++;
    node = next[2 * op + 1] as number;
    infoPass = op >= m;
  }
  return { kind: 'ok', steps };
}

/**
 * The search's memory of configurations: sets of linearized operations with
 * the register's value, kept in typed arrays rather than as objects, so that
 * a cache of millions of entries costs tens of bytes each and its size can
 * be bounded.
 *
 * The set of ok operations is hashed incrementally (Zobrist hashing): each
 * ok operation has a random 32-bit code, and the hash is the xor of the codes
 * of those linearized, updated by {@link flip} in constant time. An entry
 * stores the set's words from the first ok operation not linearized (`low`)
 * to the last one linearized (`high`), since below `low` every bit is set
 * and above `high` none is, and the info operations' words whole (a key has
 * few info operations). Entries with the same hash are chained.
 */
class ConfigCache {
  private readonly codes: Int32Array;
  private hash = 0;
  private heads: Int32Array;
  private mask: number;
  private size = 0;
  // Per entry: the next in its chain (-1: none), its full hash, its key (the
  // value, times two, plus one when reached by an info operation), `low`,
  // the number of ok words and where its words start in `words`.
  private chain = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  private keys = new Int32Array(1024);
  private lows = new Int32Array(1024);
  private spans = new Int32Array(1024);
  private offsets = new Int32Array(1024);
  private words = new Uint32Array(4096);
  private used = 0;

  constructor(
    private readonly okBits: Uint32Array,
    private readonly infoBits: Uint32Array,
    private readonly limit: number,
  ) {
    // A fixed xorshift stream: the same history is searched the same way every time.
    const m = okBits.length * 32;
    this.codes = new Int32Array(m);
    let x = 0x2545f491;
    for (let i = 0; i < m; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.codes[i] = x;
    }
    this.heads = new Int32Array(1 << 12).fill(-1);
    this.mask = (1 << 12) - 1;
  }

  /** Ok operation `i` was linearized or taken back. */
  flip(i: number): void {
    this.hash ^= this.codes[i] as number;
  }

  private full(key: number): number {
    let h = (this.hash ^ Math.imul(key + 1, 0x9e3779b1)) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  /** Whether entry `e` has the current ok set (given its hash matched). */
  private sameOk(e: number, low: number, from: number, span: number): boolean {
    if (this.lows[e] !== low || this.spans[e] !== span) return false;
    const at = this.offsets[e] as number;
    for (let w = 0; w < span; w++) if (this.words[at + w] !== this.okBits[from + w]) return false;
    return true;
  }

  /** Whether entry `e`'s info operations are a subset of the current ones. */
  private infoWithin(e: number, span: number): boolean {
    const at = (this.offsets[e] as number) + span;
    for (let w = 0; w < this.infoBits.length; w++) if (((this.words[at + w] as number) & ~(this.infoBits[w] as number)) !== 0) return false;
    return true;
  }

  /** Whether an entry with `key`, the current ok set and a subset of the current info set exists. */
  covered(key: number, low: number, high: number): boolean {
    const h = this.full(key);
    const from = low >> 5;
    const span = Math.max(0, ((high + 31) >> 5) - from);
    for (let e = this.heads[h & this.mask] as number; e >= 0; e = this.chain[e] as number) {
      if (this.hashes[e] === h && this.keys[e] === key && this.sameOk(e, low, from, span) && this.infoWithin(e, span)) return true;
    }
    return false;
  }

  /** {@link covered}, then {@link add} if not, hashing once. */
  visit(key: number, low: number, high: number): 'new' | 'seen' | 'full' {
    const h = this.full(key);
    const from = low >> 5;
    const span = Math.max(0, ((high + 31) >> 5) - from);
    for (let e = this.heads[h & this.mask] as number; e >= 0; e = this.chain[e] as number) {
      if (this.hashes[e] === h && this.keys[e] === key && this.sameOk(e, low, from, span) && this.infoWithin(e, span)) return 'seen';
    }
    return this.insert(h, key, low, from, span) ? 'new' : 'full';
  }

  /** Records the current configuration under `key`; false (recording nothing) when the cache is full. */
  add(key: number, low: number, high: number): boolean {
    const from = low >> 5;
    return this.insert(this.full(key), key, low, from, Math.max(0, ((high + 31) >> 5) - from));
  }

  private insert(h: number, key: number, low: number, from: number, span: number): boolean {
    if (this.size >= this.limit) return false;
    const need = span + this.infoBits.length;
    if (this.size === this.chain.length) this.growEntries();
    if (this.used + need > this.words.length) {
      const words = new Uint32Array(Math.max(this.words.length * 2, this.used + need));
      words.set(this.words);
      this.words = words;
    }
    const e = this.size++;
    this.hashes[e] = h;
    this.keys[e] = key;
    this.lows[e] = low;
    this.spans[e] = span;
    this.offsets[e] = this.used;
    this.words.set(this.okBits.subarray(from, from + span), this.used);
    this.words.set(this.infoBits, this.used + span);
    this.used += need;
    const bucket = h & this.mask;
    this.chain[e] = this.heads[bucket] as number;
    this.heads[bucket] = e;
    if (this.size > this.heads.length) this.rehash();
    return true;
  }

  private growEntries(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.chain = grow(this.chain);
    this.hashes = grow(this.hashes);
    this.keys = grow(this.keys);
    this.lows = grow(this.lows);
    this.spans = grow(this.spans);
    this.offsets = grow(this.offsets);
  }

  private rehash(): void {
    const buckets = this.heads.length * 2;
    this.heads = new Int32Array(buckets).fill(-1);
    this.mask = buckets - 1;
    for (let e = 0; e < this.size; e++) {
      const bucket = (this.hashes[e] as number) & this.mask;
      this.chain[e] = this.heads[bucket] as number;
      this.heads[bucket] = e;
    }
  }
}
