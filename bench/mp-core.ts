/**
 * The Multi-Paxos core alone, with no threads, no storage and no copying:
 * every effect is carried out in place, in one loop. This is the ceiling any
 * host of the core can reach on this machine — commands/s through a leader,
 * 3 acceptors and 2 learners — for a few batch and window sizes.
 *
 *   node dist/bench/mp-core.js [--commands N] [--repeats R]
 */
import { parseArgs } from 'node:util';
import { membership } from '../src/core/ids.js';
import { initMpActor, stepMpActor, type MpActorState } from '../src/core/multipaxos/actor.js';
import { mpConfig, type Command, type MpEffect, type MpInput } from '../src/core/multipaxos/types.js';
import { kvMachine } from '../src/machines/kv/machine.js';

const { values } = parseArgs({ options: { commands: { type: 'string', default: '200000' }, repeats: { type: 'string', default: '5' } } });
const total = Number(values.commands);
const repeats = Number(values.repeats);
if (!(total >= 1 && repeats >= 1)) {
  process.stderr.write('usage: mp-core [--commands N>=1] [--repeats R>=1]\n');
  process.exit(2);
}

/** Runs `total` writes through an in-memory cluster; returns commands/s. */
function run(batchMax: number, window: number, offered: number): number {
  const members = membership(1, 3, 2);
  const config = mpConfig(members, { batchMax, window, compactEvery: 0 });
  const actors = new Map<string, MpActorState>();
  for (const id of [...members.proposers, ...members.acceptors, ...members.learners]) {
    const role = id[0] === 'p' ? 'proposer' : id[0] === 'a' ? 'acceptor' : 'learner';
    actors.set(id, initMpActor(role, id, config, kvMachine));
  }
  const queue: Array<[string, MpInput]> = [];
  let answered = 0;
  const apply = (e: MpEffect) => {
    if (e.type === 'send') queue.push([e.to, { type: 'receive', msg: e.msg }]);
    else if (e.type === 'persist') e.then.forEach(apply);
    else if (e.type === 'applied') answered++;
  };
  const step = (id: string, input: MpInput) => {
    for (const e of stepMpActor(actors.get(id) as MpActorState, input, 0.5).effects) apply(e);
  };
  step('p1', { type: 'timeout', timer: 'election' });
  while (queue.length > 0) step(...(queue.shift() as [string, MpInput]));
  let sent = 0;
  const t0 = performance.now();
  while (answered < total * 2) {
    // Offer `offered` commands per round of deliveries, as a host draining its mailbox per turn would.
    if (sent < total) {
      const commands: Command[] = [];
      for (let i = 0; i < offered && sent < total; i++, sent++) commands.push({ clientId: `c${sent % 1024}`, seq: Math.floor(sent / 1024) + 1, op: { f: 'write', key: `k${sent % 100}`, value: sent } });
      step('p1', { type: 'request', commands });
    }
    const n = queue.length;
    for (let i = 0; i < n; i++) step(...(queue.shift() as [string, MpInput]));
  }
  return (total * 1000) / (performance.now() - t0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
run(64, 32, 256); // warm-up
for (const [batch, window, offered] of [[1, 1, 1], [64, 32, 256], [256, 64, 1024], [1024, 64, 4096]] as const) {
  const rates = Array.from({ length: repeats }, () => run(batch, window, offered));
  process.stdout.write(`batch ${String(batch).padStart(4)} window ${String(window).padStart(3)} offered/turn ${String(offered).padStart(4)}: ${Math.round(median(rates)).toLocaleString('en')} commands/s (min ${Math.round(Math.min(...rates)).toLocaleString('en')}, max ${Math.round(Math.max(...rates)).toLocaleString('en')})\n`);
}
