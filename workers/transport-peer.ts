/**
 * A peer for the transport tests (`test/runtime/transports.test.ts`). It
 * takes one task from its parent, then lets go of the parent port, so the
 * thread ends by itself once its link is closed: that is how the tests see
 * that closing a link leaves nothing running.
 *
 * - `echo`: sends every message straight back until the link closes.
 * - `source`: sends `count` numbered messages of varied sizes (some alone,
 *   some in batches) and an end marker, all at once, then checks that the
 *   echoes come back complete and in order before the marker, reports, and
 *   closes the link.
 */
import { parentPort } from 'node:worker_threads';
import { openEndpoint } from '../src/runtime/transports/index.js';
import { peerMsg, type PeerMsg, type PeerTask, type SourceReport } from './transport-peer-msg.js';

function same(a: PeerMsg, b: PeerMsg): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const port = parentPort;
if (!port) throw new Error('transport-peer must run in a worker thread');

port.once('message', (task: PeerTask) => {
  const ep = openEndpoint<PeerMsg>(task.end, { wait: task.wait });
  if (task.role === 'echo') {
    ep.onMessage((m) => ep.send(m));
    return;
  }
  const { count, sizes } = task;
  let sent = 0;
  let group = 0;
  while (sent < count) {
    const batch = task.batchEvery > 0 && group % task.batchEvery === task.batchEvery - 1;
    group++;
    if (batch) {
      const n = Math.min(task.batchSize, count - sent);
      ep.sendBatch(Array.from({ length: n }, (_, i) => peerMsg(sent + i, sizes)));
      sent += n;
    } else {
      ep.send(peerMsg(sent, sizes));
      sent++;
    }
  }
  // The marker goes behind the data, and the echo keeps order: when it comes
  // back, every echo that will ever come has come. A loss shows as a short
  // count, a duplicate as a long one, without waiting on a clock.
  const marker = peerMsg(-1, [0]);
  ep.send(marker);
  let received = 0;
  const mismatches: string[] = [];
  ep.onMessage((m) => {
    if (m.seq === marker.seq) {
      ep.onMessage(null);
      port.postMessage({ sent, received: Math.min(received, count), mismatches, extra: Math.max(0, received - count) } satisfies SourceReport);
      ep.close();
      return;
    }
    const want = received < count ? peerMsg(received, sizes) : null;
    if ((!want || !same(m, want)) && mismatches.length < 5) {
      mismatches.push(`#${received}: got seq ${m.seq} (${m.pad.length} chars), wanted ${want ? `seq ${want.seq} (${want.pad.length} chars)` : 'the end marker'}`);
    }
    received++;
  });
});
