// The replicated key-value store (Multi-Paxos) on worker threads: writes,
// compare-and-set and reads all go through the replicated log, so reads are
// linearizable. The leader's worker is then killed; another proposer is
// elected and the store carries on with its state intact.
//
//     node examples/kv-store.mjs        (after `npm install`, which builds dist/)
import { createKvCluster } from 'synod';

const kv = await createKvCluster({ proposers: 3, acceptors: 3, learners: 2, history: true });
try {
  await kv.put('x', 1);
  console.log(`cas x 1 -> 2: ${await kv.cas('x', 1, 2)}`); // true: it swapped
  console.log(`cas x 1 -> 3: ${await kv.cas('x', 1, 3)}`); // false: x is 2 now
  console.log(`get x: ${await kv.get('x')}`);

  const before = kv.leader();
  const elected = new Promise((resolve) => kv.once('elected', resolve));
  await kv.crash(before, 'terminate'); // the supervisor restarts it, as a follower
  const after = await elected;
  console.log(`leader ${before} killed; ${after.id} elected at ballot ${after.ballot.round}.${after.ballot.proposer}`);

  await kv.put('y', 'hello');
  console.log(`get x after the failover: ${await kv.get('x')}`);
  console.log(`get y: ${await kv.get('y')}`);
  console.log(`operations recorded: ${kv.history().filter((e) => e.type === 'invoke').length}`);
  console.log(`log safety violations: ${kv.checker.violations.length}`);
} finally {
  await kv.close();
}
