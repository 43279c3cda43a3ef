/**
 * CPU time per thread of this process, for saying which thread spends it:
 * the client on the main thread, each actor's worker, and the threads no
 * actor owns (V8's garbage-collector and compiler helpers, which every
 * isolate of the process shares, libuv's pool, lmdb's sync threads).
 *
 * Read from /proc/self/task/<tid>/stat (Linux): user plus system time in
 * clock ticks, which /proc counts in USER_HZ, 100 per second on every Linux
 * that Node.js supports, so a tick is 10 ms and a figure over a short window
 * is that coarse per thread. Elsewhere there is no /proc and no breakdown
 * (null), and the benchmarks report the process total only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Microseconds per tick of /proc's utime and stime (USER_HZ = 100). */
export const TICK_US = 10_000;

/** CPU ticks (user + system) used so far by every thread of this process, by OS thread id; null without /proc. */
export function threadTicks(): Map<number, number> | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const out = new Map<number, number>();
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      // The thread ended between the listing and the read: it has nothing more to count.
      continue;
    }
    // The name in parentheses may hold spaces; the fields after it are plain: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[11]) + Number(fields[12]));
  }
  return out;
}

/**
 * The CPU time in µs each group of threads used between two readings of
 * {@link threadTicks}: `groupOf` names a thread's group, or null for one no
 * actor owns, which goes to `others`. A thread that started in between
 * counts from zero; one that ended in between is not in `after` and cannot
 * be counted (the process total still has it). Every group `groupOf` can
 * name should be listed in `groups`, which fixes the order and gives a group
 * that used nothing its 0.
 */
export function cpuByGroup(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>, groupOf: (tid: number) => string | null, groups: readonly string[], others: string): Map<string, number> {
  const out = new Map<string, number>([...groups, others].map((g) => [g, 0]));
  for (const [tid, ticks] of after) {
    const used = ticks - (before.get(tid) ?? 0);
    if (used <= 0) continue;
    const group = groupOf(tid) ?? others;
    out.set(group, (out.get(group) ?? 0) + used * TICK_US);
  }
  return out;
}
