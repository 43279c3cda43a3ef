// Micro-benchmarking a message path: round trips between this thread and an
// echoing worker thread over each of synod's transports — `port` (a direct
// MessagePort, the cluster's default data path), `hub` (relayed by the
// creating thread, as a naive actor system does) and `ring`
// (SharedArrayBuffer rings with msgpackr and Atomics.waitAsync). The full,
// repeated measurement (with comlink and piscina, worker<->worker, busy and
// idle ends) is `synod bench --only paths`.
//
//     node examples/bench-paths.mjs [round trips]   (after `npm install`, which builds dist/)
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createTransport, openEndpoint, transferListOf } from 'synod';

if (!isMainThread) {
  // The echo: opens the end it is given and sends every message straight back.
  parentPort.once('message', (end) => {
    const ep = openEndpoint(end);
    ep.onMessage((msg) => ep.send(msg));
    parentPort.close();
  });
} else {
  const roundTrips = Number(process.argv[2] ?? 2000);
  const warmUp = Math.min(200, roundTrips);

  for (const kind of ['port', 'hub', 'ring']) {
    const pair = createTransport(kind).createPair();
    const worker = new Worker(new URL(import.meta.url));
    worker.postMessage(pair.ends[1], transferListOf(pair.ends[1]));
    const ep = openEndpoint(pair.ends[0]);

    // One message in flight at a time: send, wait for the echo, send the next.
    const micros = [];
    let inOrder = true;
    await new Promise((resolve) => {
      let seq = 0;
      let sentAt = 0;
      const next = () => {
        sentAt = performance.now();
        ep.send({ seq, payload: `message ${seq}` });
      };
      ep.onMessage((msg) => {
        if (msg.seq !== seq || msg.payload !== `message ${seq}`) inOrder = false;
        if (seq >= warmUp) micros.push((performance.now() - sentAt) * 1000);
        seq++;
        if (seq < warmUp + roundTrips) next();
        else resolve();
      });
      next();
    });
    ep.close();
    pair.close();
    await new Promise((resolve) => worker.once('exit', resolve));

    micros.sort((a, b) => a - b);
    const at = (q) => micros[Math.min(micros.length - 1, Math.ceil(q * micros.length) - 1)].toFixed(1);
    console.log(`${kind}: ${micros.length} round trips, ${inOrder ? 'every echo in order' : 'ECHOES OUT OF ORDER'}, p50 ${at(0.5)} µs, p99 ${at(0.99)} µs`);
  }
}
