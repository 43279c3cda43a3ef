// Single-decree Paxos on worker threads: two proposers contend with
// different values over three acceptors, each actor in its own worker thread
// with its own LMDB store. An acceptor is set to crash right after its first
// durable write, before its reply leaves; the supervisor restarts it from its
// store. Both proposers are told the one decided value, and so is a later
// client with a different value.
//
// Run from the repository after `npm install` (which builds dist/):
//     node examples/single-decree.mjs
// `from 'synod'` resolves through the package's own exports map, as it does
// in a project that depends on synod.
import { createCluster } from 'synod';

const cluster = await createCluster({ proposers: 2, acceptors: 3, learners: 1 });
try {
  const restarted = new Promise((resolve) => cluster.on('restart', (e) => e.id === 'a1' && resolve(e)));
  // A crash point: a1 dies once its next write is durable, before the reply leaves.
  await cluster.crash('a1', 'after-persist');

  // Both proposals run at once; Paxos decides exactly one of the two values.
  const [fromP1, fromP2] = await Promise.all([
    cluster.propose('apple', { proposer: 'p1' }),
    cluster.propose('banana', { proposer: 'p2' }),
  ]);
  console.log(`p1 proposed apple, was told: ${fromP1}`);
  console.log(`p2 proposed banana, was told: ${fromP2}`);

  await restarted;
  const a1 = await cluster.state('a1');
  console.log(`a1 crashed and came back: incarnation ${a1.incarnation}, state ${a1.describe}`);

  // The decision is final: a new value is answered with the decided one.
  console.log(`p1 proposed cherry, was told: ${await cluster.propose('cherry', { proposer: 'p1' })}`);
  console.log(`safety violations: ${cluster.checker.violations.length}`);
} finally {
  await cluster.close(); // stops every worker and removes the temporary data directory
}
