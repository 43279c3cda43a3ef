// Crash recovery, and what breaks without it. The same script runs twice:
// p1's value is chosen, every acceptor is killed (worker.terminate()) and
// restarted by the supervisor, then p2 proposes another value.
//
// - Durable acceptors (the default: every promise and accepted reply waits
//   for its LMDB write to be on disk) come back remembering what they
//   accepted, so p2's prepare learns p1's value and p2 is told that value.
// - With `amnesia: true` acceptors keep their state in memory only: they come
//   back empty, p2's value is chosen too, and the safety checker watching the
//   cluster reports it.
//
//     node examples/crash-recovery.mjs   (after `npm install`, which builds dist/)
import { createCluster } from 'synod';

async function experiment(name, options) {
  const cluster = await createCluster({ proposers: 2, acceptors: 3, learners: 1, ...options });
  try {
    const first = await cluster.propose('apple', { proposer: 'p1' });
    for (const id of ['a1', 'a2', 'a3']) {
      const back = new Promise((resolve) => cluster.on('restart', (e) => e.id === id && resolve(e)));
      await cluster.crash(id, 'terminate');
      await back;
    }
    // The checker learns what acceptors accepted from their own reports, which
    // reach this thread on other ports than p2's answer: wait until a majority
    // has reported accepting the value p2 was told, so the verdict is complete.
    const accepted = new Set();
    let majority;
    const reported = new Promise((resolve) => (majority = resolve));
    cluster.on('durable', ({ id, record }) => {
      if (record.role === 'acceptor' && record.accepted?.ballot.proposer === 'p2') accepted.add(id);
      if (accepted.size >= 2) majority();
    });
    const second = await cluster.propose('banana', { proposer: 'p2' });
    await reported;
    const kinds = [...new Set(cluster.checker.violations.map((v) => v.kind))];
    console.log(`${name}: p1 was told ${first}; after every acceptor restarted, p2 was told ${second}`);
    console.log(`${name}: violations: ${kinds.length === 0 ? 'none' : kinds.join(', ')}`);
  } finally {
    await cluster.close();
  }
}

await experiment('durable', {});
await experiment('amnesia', { amnesia: true });
