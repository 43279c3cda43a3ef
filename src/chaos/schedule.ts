/**
 * Fault schedules for `synod chaos`: what to propose and which faults to
 * inject, step by step, on a real cluster. A schedule is either generated
 * from a seed ({@link generateRound}, {@link generateKvSteps}) or read from a
 * JSON file ({@link parseSchedule}); either way the one actually used can be
 * written out and replayed. The seed fixes the schedule, not the
 * interleaving: the threads of a real cluster still race.
 *
 * The file's shape (single-decree):
 *
 *     {
 *       "format": "synod-chaos-schedule", "version": 1,
 *       "protocol": "single",
 *       "seed": 7,                     // informational: what generated it (null if hand-written)
 *       "experiment": null,            // or "amnesia", "no-fsync", "reuse-ballot": the switch to turn on
 *       "cluster": { "proposers": 3, "acceptors": 3, "learners": 2 },
 *       "roundTimeoutMs": 4000,
 *       "rounds": [ { "scenario": "random", "steps": [ STEP, ... ] }, ... ]
 *     }
 *
 * and for `--protocol kv` the same head with `"protocol": "kv"`, `"clients"`,
 * `"keys"` and one list of `"steps"` for the whole run. A STEP is one of
 *
 *     { "op": "propose", "proposer": "p1", "value": "r1-p1" }   a client proposal (retried until the round ends)
 *     { "op": "wait", "ms": 12 }                                 pause the script
 *     { "op": "await", "event": "chosen" | "decided" | "answered" | "up", "timeoutMs": 2000 }
 *     { "op": "crash", "actor": "a1", "how": "exception" | "exit" | "terminate" | "after-receive" | "after-persist" }
 *     { "op": "restart", "actor": "p2" }                         a planned restart
 *     { "op": "partition", "sides": [["p1", "a1"], ["p2", "a2", "a3", "l1", "l2"]] }
 *     { "op": "heal" }
 *     { "op": "link", "from": "p1", "to": "a2", "drop": 0.5, "dup": 0, "delay": 0, "delayMs": 10 }
 *     { "op": "pause", "actor": "a1" }   { "op": "resume", "actor": "a1" }
 *     { "op": "replace", "actor": "a2", "by": "a4" }             kv: reconfigure({ add: [by], remove: [actor] })
 *     { "op": "crash-system", "system": "s2", "how": "exception" | "exit" | "terminate" }   kv: every actor on it at once
 *
 * Steps run in order; only `wait` and `await` take time. `await` waits for:
 * `chosen` (the checker saw a value accepted by a majority at one ballot),
 * `decided` (every learner decided), `answered` (every proposal so far got
 * its answer), `up` (every actor serving). In a kv schedule an actor may be
 * `"leader"` (whoever leads when the step runs) in crash, restart, pause
 * and resume steps; kv has no propose or await steps. A kv cluster's actors
 * are placed on systems s1, s2, ... ({@link kvSystems}: sK holds pK, aK and
 * lK, those that exist); a `replace` step brings in `by`, a proposer,
 * acceptor or learner id never named before, of the role of the actor it
 * replaces, which later steps may name.
 */
import { z } from 'zod';
import { Prng } from '../util/prng.js';
import type { CrashMode } from '../runtime/wire.js';

/** The named experiments: each turns on one way of breaking a rule of Paxos. */
export const EXPERIMENTS = ['amnesia', 'no-fsync', 'reuse-ballot'] as const;
export type Experiment = (typeof EXPERIMENTS)[number];

/** Every crash mode and crash point. */
export const CRASH_MODES: readonly CrashMode[] = ['exception', 'exit', 'terminate', 'after-receive', 'after-persist'];

/** What a round's script is aimed at: random faults, or one of the experiments' targeted schedules. */
export const SCENARIOS = ['random', ...EXPERIMENTS] as const;
export type Scenario = (typeof SCENARIOS)[number];

const actor = z.string().regex(/^[pal][1-9]\d*$/, 'an actor id such as p1, a2 or l1');
const kvActor = z.union([actor, z.literal('leader')]);
const ms = z.number().int().min(0).max(600_000);
const probability = z.number().min(0).max(1);
const jsonValue: z.ZodType<unknown> = z.lazy(() => z.union([z.null(), z.boolean(), z.number().finite(), z.string(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

const crashStep = z.strictObject({ op: z.literal('crash'), actor, how: z.enum(CRASH_MODES as [CrashMode, ...CrashMode[]]) });
const restartStep = z.strictObject({ op: z.literal('restart'), actor });
const waitStep = z.strictObject({ op: z.literal('wait'), ms });
const pauseStep = z.strictObject({ op: z.literal('pause'), actor });
const resumeStep = z.strictObject({ op: z.literal('resume'), actor });
/** The crash modes that act at once, which a whole system's crash uses. */
export const SYSTEM_CRASH_MODES = ['exception', 'exit', 'terminate'] as const;
const member = z.string().regex(/^[pal][1-9]\d*$/, 'a proposer, acceptor or learner id such as p1, a2 or l1');
const replaceStep = z.strictObject({ op: z.literal('replace'), actor: member, by: member });
const crashSystemStep = z.strictObject({ op: z.literal('crash-system'), system: z.string().regex(/^s[1-9]\d*$/, 'a system name such as s1'), how: z.enum(SYSTEM_CRASH_MODES) });

const partitionStep = z.strictObject({ op: z.literal('partition'), sides: z.tuple([z.array(actor).min(1), z.array(actor).min(1)]) });
const healStep = z.strictObject({ op: z.literal('heal') });
const linkStep = z.strictObject({ op: z.literal('link'), from: actor, to: actor, drop: probability, dup: probability, delay: probability, delayMs: ms.min(1) });

const stepSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('propose'), proposer: actor, value: jsonValue }),
  waitStep,
  z.strictObject({ op: z.literal('await'), event: z.enum(['chosen', 'decided', 'answered', 'up']), timeoutMs: ms.optional() }),
  crashStep,
  restartStep,
  partitionStep,
  healStep,
  linkStep,
  pauseStep,
  resumeStep,
]);

const kvStepSchema = z.discriminatedUnion('op', [
  waitStep,
  partitionStep,
  healStep,
  linkStep,
  crashStep.extend({ actor: kvActor }),
  restartStep.extend({ actor: kvActor }),
  pauseStep.extend({ actor: kvActor }),
  resumeStep.extend({ actor: kvActor }),
  replaceStep,
  crashSystemStep,
]);

/** One step of a single-decree round's script. */
export type Step = z.infer<typeof stepSchema>;
/** One step of a kv run's script. */
export type KvStep = z.infer<typeof kvStepSchema>;

const clusterSchema = z.strictObject({ proposers: z.number().int().min(1).max(16), acceptors: z.number().int().min(1).max(16), learners: z.number().int().min(1).max(16) });
const head = {
  format: z.literal('synod-chaos-schedule'),
  version: z.literal(1),
  seed: z.number().int().nullable().default(null),
  cluster: clusterSchema,
};

const roundSchema = z.strictObject({ scenario: z.enum(SCENARIOS).default('random'), steps: z.array(stepSchema) });

const singleSchema = z.strictObject({
  ...head,
  protocol: z.literal('single'),
  experiment: z.enum(EXPERIMENTS).nullable().default(null),
  roundTimeoutMs: ms.min(100).default(4000),
  rounds: z.array(roundSchema).min(1),
});

const kvSchema = z.strictObject({
  ...head,
  protocol: z.literal('kv'),
  clients: z.number().int().min(1).max(256),
  keys: z.number().int().min(1).max(1000),
  steps: z.array(kvStepSchema),
});

const scheduleSchema = z.discriminatedUnion('protocol', [singleSchema, kvSchema]);

export type ClusterShape = z.infer<typeof clusterSchema>;
export type Round = z.infer<typeof roundSchema>;
export type SingleSchedule = z.infer<typeof singleSchema>;
export type KvSchedule = z.infer<typeof kvSchema>;
export type Schedule = SingleSchedule | KvSchedule;

/** A schedule file that is not valid JSON or not a valid schedule; the message names every problem. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

/**
 * Validates a parsed schedule: its shape (zod), then that every actor it
 * names exists in its cluster. Throws a {@link ScheduleError} listing every
 * problem as `path: what is wrong`.
 */
export function validateSchedule(input: unknown): Schedule {
  const result = scheduleSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new ScheduleError(`invalid schedule: ${problems.join('; ')}`);
  }
  const s = result.data;
  const problems: string[] = [];
  /** Ids a kv `replace` step brought in, known to the steps after it. */
  const added = new Set<string>();
  const known = (id: string) => {
    if (id === 'leader' && s.protocol === 'kv') return true;
    if (added.has(id)) return true;
    const n = Number(id.slice(1));
    const limit = id[0] === 'p' ? s.cluster.proposers : id[0] === 'a' ? s.cluster.acceptors : s.cluster.learners;
    return n >= 1 && n <= limit;
  };
  const check = (path: string, id: string, role?: 'p') => {
    if (!known(id)) problems.push(`${path}: ${id} is not an actor of a cluster with ${s.cluster.proposers} proposers, ${s.cluster.acceptors} acceptors and ${s.cluster.learners} learners`);
    else if (role === 'p' && !id.startsWith('p')) problems.push(`${path}: ${id} is not a proposer`);
  };
  const checkStep = (path: string, step: Step | KvStep) => {
    switch (step.op) {
      case 'propose':
        return check(`${path}.proposer`, step.proposer, 'p');
      case 'crash':
      case 'restart':
      case 'pause':
      case 'resume':
        return check(`${path}.actor`, step.actor);
      case 'partition':
        step.sides.forEach((side, i) => side.forEach((id, j) => check(`${path}.sides.${i}.${j}`, id)));
        if (step.sides[0].some((id) => step.sides[1].includes(id))) problems.push(`${path}.sides: an actor cannot be on both sides`);
        return;
      case 'link':
        check(`${path}.from`, step.from);
        check(`${path}.to`, step.to);
        if (step.from === step.to) problems.push(`${path}: a link joins two different actors`);
        return;
      case 'replace':
        check(`${path}.actor`, step.actor);
        if (known(step.by)) problems.push(`${path}.by: ${step.by} is an actor already; a replacement brings in an id never named before`);
        else if (step.by[0] !== step.actor[0]) problems.push(`${path}.by: ${step.by} does not have the role of ${step.actor} (a proposer is replaced by a proposer, an acceptor by an acceptor, a learner by a learner)`);
        added.add(step.by);
        return;
      case 'crash-system':
        if (!Object.hasOwn(kvSystems(s.cluster), step.system)) problems.push(`${path}.system: no system ${step.system}; the systems are ${Object.keys(kvSystems(s.cluster)).join(', ')}`);
        return;
      default:
        return;
    }
  };
  if (s.protocol === 'single') s.rounds.forEach((r, i) => r.steps.forEach((step, j) => checkStep(`rounds.${i}.steps.${j}`, step)));
  else s.steps.forEach((step, j) => checkStep(`steps.${j}`, step));
  if (problems.length > 0) throw new ScheduleError(`invalid schedule: ${problems.join('; ')}`);
  return s;
}

/** Parses and validates a schedule file's text. */
export function parseSchedule(text: string): Schedule {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScheduleError(`the schedule is not valid JSON: ${(err as Error).message}`);
  }
  return validateSchedule(raw);
}

/** The fault kinds a summary counts. Link faults count per kind they set (drop, dup, delay). */
export type FaultKind = `crash:${CrashMode}` | 'restart' | 'partition' | 'heal' | 'link-drop' | 'link-dup' | 'link-delay' | 'pause' | 'resume' | 'replace' | 'crash-system';

/** The fault kinds one step injects (none for propose, wait, await). */
export function faultKindsOf(step: Step | KvStep): FaultKind[] {
  switch (step.op) {
    case 'crash':
      return [`crash:${step.how}`];
    case 'restart':
    case 'partition':
    case 'heal':
    case 'pause':
    case 'resume':
    case 'replace':
    case 'crash-system':
      return [step.op];
    case 'link': {
      const kinds: FaultKind[] = [];
      if (step.drop > 0) kinds.push('link-drop');
      if (step.dup > 0) kinds.push('link-dup');
      if (step.delay > 0) kinds.push('link-delay');
      return kinds;
    }
    default:
      return [];
  }
}

/** True for the steps that inject a fault. */
export function isFault(step: Step | KvStep): boolean {
  return !['propose', 'wait', 'await'].includes(step.op);
}

/** A step as one line of text. */
export function describeStep(step: Step | KvStep): string {
  switch (step.op) {
    case 'propose':
      return `${step.proposer} is asked to propose ${JSON.stringify(step.value)}`;
    case 'wait':
      return `wait ${step.ms} ms`;
    case 'await':
      return `wait until ${step.event}`;
    case 'crash':
      return step.how === 'after-receive' || step.how === 'after-persist' ? `arm crash point ${step.how} in ${step.actor}` : `crash ${step.actor} (${step.how})`;
    case 'restart':
      return `restart ${step.actor}`;
    case 'partition':
      return `partition {${step.sides[0].join(',')}} | {${step.sides[1].join(',')}}`;
    case 'heal':
      return 'heal the partition';
    case 'link': {
      const parts = [step.drop > 0 ? `drop ${step.drop}` : '', step.dup > 0 ? `dup ${step.dup}` : '', step.delay > 0 ? `delay ${step.delay} up to ${step.delayMs} ms` : ''].filter((p) => p !== '');
      return `link ${step.from}->${step.to}: ${parts.length > 0 ? parts.join(', ') : 'no faults'}`;
    }
    case 'pause':
      return `pause ${step.actor}`;
    case 'resume':
      return `resume ${step.actor}`;
    case 'replace':
      return `replace ${step.actor} by ${step.by}`;
    case 'crash-system':
      return `crash system ${step.system} (${step.how})`;
  }
}

/** The PRNG of round `index` of a run with `seed`: rounds are independent of how many ran before. */
function roundPrng(seed: number, index: number, salt = 0): Prng {
  return new Prng(((seed * 1_000_003 + index * 7919 + salt) % Number.MAX_SAFE_INTEGER) | 0 || seed + index + salt);
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** The fault kinds the random rounds rotate through, so that every kind appears within a few rounds. */
const RANDOM_KINDS = ['crash:exception', 'crash:exit', 'crash:terminate', 'crash:after-receive', 'crash:after-persist', 'restart', 'partition', 'link-drop', 'link-dup', 'link-delay'] as const;
const KINDS_PER_ROUND = 5;

/**
 * Which scenario round `index` runs. With an experiment, every round runs its
 * targeted schedule; without, every third round runs one of the three
 * targeted schedules in turn (the switch off: they must be safe) and the
 * others random faults.
 */
export function scenarioOf(index: number, experiment: Experiment | null): Scenario {
  if (experiment !== null) return experiment;
  if (index % 3 !== 2) return 'random';
  return EXPERIMENTS[Math.floor(index / 3) % EXPERIMENTS.length] as Experiment;
}

/** How many random rounds come before round `index` (for the kind rotation). */
function randomRoundsBefore(index: number, experiment: Experiment | null): number {
  let n = 0;
  for (let i = 0; i < index; i++) if (scenarioOf(i, experiment) === 'random') n++;
  return n;
}

/** Generates round `index` of a run from `seed`. */
export function generateRound(seed: number, index: number, cluster: ClusterShape, experiment: Experiment | null): Round {
  const scenario = scenarioOf(index, experiment);
  const rng = roundPrng(seed, index);
  const steps = scenario === 'random' ? randomRound(rng, seed, randomRoundsBefore(index, experiment), index, cluster) : targetedRound(rng, scenario, index, cluster);
  return { scenario, steps };
}

function shuffled<T>(rng: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Random faults: KINDS_PER_ROUND faults (the next kinds of a seeded
 * rotation, so two random rounds cover every kind) on random actors, while
 * every proposer gets a distinct value within the first few ms. A partition
 * is healed 5-40 ms after it is made.
 */
function randomRound(rng: Prng, seed: number, randomIndex: number, index: number, c: ClusterShape): Step[] {
  const proposers = ids('p', c.proposers);
  const acceptors = ids('a', c.acceptors);
  const learners = ids('l', c.learners);
  const everyone = [...proposers, ...acceptors, ...learners];
  const rotation = shuffled(new Prng(seed), RANDOM_KINDS);
  const kinds = Array.from({ length: KINDS_PER_ROUND }, (_, k) => rotation[(randomIndex * KINDS_PER_ROUND + k) % rotation.length] as (typeof RANDOM_KINDS)[number]);
  const proposals: Step[] = proposers.map((p) => ({ op: 'propose', proposer: p, value: `r${index + 1}-${p}` }));
  const linkSources = [...shuffled(rng, proposers), ...shuffled(rng, acceptors)];
  let linkKinds = 0;
  const faults: Step[][] = shuffled(rng, kinds).map((kind): Step[] => {
    if (kind.startsWith('crash:')) {
      const how = kind.slice('crash:'.length) as CrashMode;
      // Crash points fire on the actor's next input or write: aim them at actors that are sure to get one.
      const pool = how === 'after-receive' || how === 'after-persist' ? acceptors : everyone;
      return [{ op: 'crash', actor: rng.pick(pool), how }];
    }
    if (kind === 'restart') return [{ op: 'restart', actor: rng.pick([...proposers, ...acceptors]) }];
    if (kind === 'partition') {
      const side = shuffled(rng, everyone);
      const cut = rng.int(1, Math.max(1, Math.floor(everyone.length / 2)));
      return [{ op: 'partition', sides: [side.slice(0, cut).sort(), side.slice(cut).sort()] }, { op: 'wait', ms: rng.int(5, 40) }, { op: 'heal' }];
    }
    // Every outgoing link of one actor, so the fault meets traffic: a proposer's to the acceptors, or an
    // acceptor's to the proposers and learners. Each link kind takes another actor, since a link step
    // sets the whole rule of its link.
    const from = linkSources[linkKinds++ % linkSources.length] as string;
    const p = () => Math.round((0.2 + rng.next() * 0.3) * 100) / 100;
    const fault = { drop: kind === 'link-drop' ? p() : 0, dup: kind === 'link-dup' ? p() : 0, delay: kind === 'link-delay' ? p() : 0, delayMs: rng.int(5, 30) };
    return (from.startsWith('p') ? acceptors : [...proposers, ...learners]).map((to) => ({ op: 'link', from, to, ...fault }));
  });
  // Faults that act on traffic — link faults, and crash points, which fire on the actor's next input or
  // write — are set before the proposals, so that the round's messages meet them; the others (crashes,
  // restarts, partitions) come while the proposals run, 0-25 ms apart.
  const onTraffic = (f: Step[]) => f[0]?.op === 'link' || (f[0]?.op === 'crash' && (f[0].how === 'after-receive' || f[0].how === 'after-persist'));
  const steps: Step[] = faults.filter(onTraffic).flat();
  for (const p of shuffled(rng, proposals)) {
    steps.push(p);
    const gap = rng.int(0, 3);
    if (gap > 0) steps.push({ op: 'wait', ms: gap });
  }
  for (const f of faults.filter((f) => !onTraffic(f))) {
    steps.push(...f);
    steps.push({ op: 'wait', ms: rng.int(0, 25) });
  }
  return steps;
}

/**
 * The experiments' targeted schedules. Run with the experiment's switch they
 * break a rule of Paxos; run without it (the default `synod chaos` runs them
 * too) they must be safe.
 *
 * - amnesia and no-fsync: one proposer's value is chosen by the acceptors;
 *   every acceptor is crashed (amnesia: once the decision is out; no-fsync:
 *   at once, while its last writes may still be unflushed); once all are
 *   back, another proposer proposes another value.
 * - reuse-ballot: one proposer's value is chosen and it has its answer; the
 *   proposer is crashed, and once it is back it is asked to propose another value.
 *
 * The seed picks the proposers, the crash modes, the order and the small
 * gaps, and adds light message duplication or delay on a link or two.
 */
function targetedRound(rng: Prng, scenario: Exclude<Scenario, 'random'>, index: number, c: ClusterShape): Step[] {
  const proposers = shuffled(rng, ids('p', c.proposers));
  const acceptors = shuffled(rng, ids('a', c.acceptors));
  const first = proposers[0] as string;
  const second = scenario === 'reuse-ballot' ? first : (proposers[1] ?? first);
  const steps: Step[] = [];
  // Light noise that cannot stop progress: duplicates or short delays on a link or two.
  for (let i = rng.int(0, 2); i > 0; i--) {
    const dup = rng.chance(0.5);
    steps.push({ op: 'link', from: rng.pick(ids('a', c.acceptors)), to: rng.pick([...ids('p', c.proposers), ...ids('l', c.learners)]), drop: 0, dup: dup ? 0.3 : 0, delay: dup ? 0 : 0.3, delayMs: rng.int(2, 8) });
  }
  steps.push({ op: 'propose', proposer: first, value: `r${index + 1}-${first}-first` });
  const hard: CrashMode[] = ['exception', 'exit', 'terminate'];
  if (scenario === 'reuse-ballot') {
    steps.push({ op: 'await', event: 'answered' });
    const gap = rng.int(0, 5);
    if (gap > 0) steps.push({ op: 'wait', ms: gap });
    steps.push({ op: 'crash', actor: first, how: rng.pick(hard) });
  } else {
    steps.push({ op: 'await', event: scenario === 'amnesia' ? 'decided' : 'chosen' });
    if (scenario === 'amnesia') steps.push({ op: 'wait', ms: rng.int(0, 10) });
    for (const a of acceptors) steps.push({ op: 'crash', actor: a, how: rng.pick(hard) });
  }
  steps.push({ op: 'await', event: 'up' });
  steps.push({ op: 'propose', proposer: second, value: `r${index + 1}-${second}-second` });
  steps.push({ op: 'await', event: 'answered' });
  return steps;
}

/**
 * The systems a kv chaos cluster's actors are placed on: s1, s2, ..., where
 * sK holds pK, aK and lK (those the cluster has), as if each machine ran one
 * actor of each role.
 */
export function kvSystems(cluster: ClusterShape): Record<string, string[]> {
  const systems: Record<string, string[]> = {};
  const n = Math.max(cluster.proposers, cluster.acceptors, cluster.learners);
  for (let k = 1; k <= n; k++) {
    systems[`s${k}`] = [k <= cluster.proposers ? `p${k}` : '', k <= cluster.acceptors ? `a${k}` : '', k <= cluster.learners ? `l${k}` : ''].filter((id) => id !== '');
  }
  return systems;
}

/** Which of the kv faults beyond crashes, restarts, pauses, partitions and lossy links a generated script has. */
export interface KvFaultChoice {
  /** Replacements of an acceptor, a learner or a proposer by a fresh one, through the log. Default true. */
  readonly reconfig?: boolean;
  /** Crashes of a whole system (every actor on it at once). Default true. */
  readonly systemCrashes?: boolean;
}

/**
 * A kv run's fault script for `durationMs`: every 40-160 ms a fault — a crash
 * of a random actor or of the leader (the crash modes in turn, so every mode
 * appears), a planned restart, a pause resumed 20-120 ms later, or a
 * partition cutting one actor off from the rest (or lossy, duplicating,
 * delaying links from one proposer to the acceptors), healed 30-150 ms
 * later; and, unless `choice` leaves them out, the crash of a whole system
 * ({@link kvSystems}) and the replacement of an acceptor, a learner or, now
 * and then, a proposer by a fresh one (`a<n>`, `l<n>` or `p<n>`, numbered on
 * from the cluster's), which the later faults may hit like any member (a
 * learner is replaced only while there are two or more, since a new view
 * keeps a learner of the old).
 */
export function generateKvSteps(seed: number, durationMs: number, cluster: ClusterShape, choice: KvFaultChoice = {}): KvStep[] {
  const rng = roundPrng(seed, 0, 17);
  let proposers = ids('p', cluster.proposers);
  let acceptors = ids('a', cluster.acceptors);
  let learners = ids('l', cluster.learners);
  const next = { p: cluster.proposers + 1, a: cluster.acceptors + 1, l: cluster.learners + 1 };
  const systems = Object.keys(kvSystems(cluster));
  const modes = shuffled(rng, CRASH_MODES);
  const kinds = ['crash', 'crash', 'restart', 'pause', 'partition', 'link', ...(choice.reconfig === false ? [] : (['replace'] as const)), ...(choice.systemCrashes === false ? [] : (['crash-system'] as const))] as const;
  const steps: KvStep[] = [];
  let t = 0;
  let n = 0;
  for (;;) {
    const gap = rng.int(40, 160);
    if (t + gap > durationMs * 0.8) break;
    steps.push({ op: 'wait', ms: gap });
    t += gap;
    const everyone = [...proposers, ...acceptors, ...learners];
    const kind = n < modes.length ? 'crash' : rng.pick(kinds);
    const target = rng.chance(0.4) ? 'leader' : rng.pick(everyone);
    if (kind === 'crash') steps.push({ op: 'crash', actor: target, how: n < modes.length ? (modes[n] as CrashMode) : rng.pick(CRASH_MODES) });
    else if (kind === 'restart') steps.push({ op: 'restart', actor: target });
    else if (kind === 'crash-system') steps.push({ op: 'crash-system', system: rng.pick(systems), how: rng.pick(SYSTEM_CRASH_MODES) });
    else if (kind === 'replace') {
      const proposer = rng.chance(0.2);
      const learner = !proposer && learners.length >= 2 && rng.chance(0.4);
      const actor = rng.pick(proposer ? proposers : learner ? learners : acceptors);
      const by = proposer ? `p${next.p++}` : learner ? `l${next.l++}` : `a${next.a++}`;
      if (proposer) proposers = [...proposers.filter((id) => id !== actor), by];
      else if (learner) learners = [...learners.filter((id) => id !== actor), by];
      else acceptors = [...acceptors.filter((id) => id !== actor), by];
      steps.push({ op: 'replace', actor, by });
    } else if (kind === 'partition') {
      const alone = rng.pick(everyone);
      const healMs = rng.int(30, 150);
      steps.push({ op: 'partition', sides: [[alone], everyone.filter((a) => a !== alone)] }, { op: 'wait', ms: healMs }, { op: 'heal' });
      t += healMs;
    } else if (kind === 'link') {
      const from = rng.pick(proposers);
      const healMs = rng.int(30, 150);
      for (const to of acceptors) steps.push({ op: 'link', from, to, drop: 0.3, dup: 0.2, delay: 0.2, delayMs: 20 });
      steps.push({ op: 'wait', ms: healMs });
      for (const to of acceptors) steps.push({ op: 'link', from, to, drop: 0, dup: 0, delay: 0, delayMs: 20 });
      t += healMs;
    } else {
      // A paused leader would be resumed by name, so pause a named actor.
      const paused = target === 'leader' ? rng.pick(everyone) : target;
      const pauseMs = rng.int(20, 120);
      steps.push({ op: 'pause', actor: paused }, { op: 'wait', ms: pauseMs }, { op: 'resume', actor: paused });
      t += pauseMs;
    }
    n++;
  }
  return steps;
}

/** A whole single-decree schedule from its rounds. */
export function singleSchedule(seed: number | null, experiment: Experiment | null, cluster: ClusterShape, roundTimeoutMs: number, rounds: readonly Round[]): SingleSchedule {
  return { format: 'synod-chaos-schedule', version: 1, protocol: 'single', seed, experiment, cluster, roundTimeoutMs, rounds: [...rounds] };
}

/** A whole kv schedule. */
export function kvSchedule(seed: number | null, cluster: ClusterShape, clients: number, keys: number, steps: readonly KvStep[]): KvSchedule {
  return { format: 'synod-chaos-schedule', version: 1, protocol: 'kv', seed, cluster, clients, keys, steps: [...steps] };
}
