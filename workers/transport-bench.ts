/**
 * A peer for the message-path benchmark (`bench/paths.ts`). It takes one
 * command at a time from the main thread and plays the role asked of it on
 * the end it is given: echo, ping, source or sink over a transport, or the
 * same over comlink. A `block` or `spin` role holds this thread until its
 * link closes or its handler detaches; later commands wait in the port.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { openEndpoint } from '../src/runtime/transports/index.js';
import { echo, ping, pingCalls, sink, source, streamCalls, type BenchCommand, type BenchMsg, type BenchReply, type CallTarget } from '../bench/paths/roles.js';

// The UMD build's default export is the adapter function itself.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

/** What a comlink peer exposes. */
export const callTarget: CallTarget = {
  echo: (msg) => msg,
  take: (msgs) => (Array.isArray(msgs) ? msgs.length : 1),
};

const port = parentPort;
if (!port) throw new Error('transport-bench must run in a worker thread');

async function run(c: Exclude<BenchCommand, { cmd: 'exit' }>): Promise<Omit<BenchReply, 'id'>> {
  switch (c.cmd) {
    case 'echo':
      echo(openEndpoint<BenchMsg>(c.end, { wait: c.wait }));
      return {};
    case 'ping': {
      const ep = openEndpoint<BenchMsg>(c.end, { wait: c.wait });
      const { samples, cpuUs } = await ping(ep, c.plan);
      // Held: waits like a live end until the pair is closed (a block or spin loop starts after this reply is posted).
      if (c.hold) ep.onMessage(() => {});
      else ep.close();
      return { samples, cpuUs };
    }
    case 'source': {
      const ep = openEndpoint<BenchMsg>(c.end, { wait: c.wait });
      const elapsedMs = await source(ep, c.plan);
      ep.close();
      return { elapsedMs };
    }
    case 'sink':
      // Answers once everything arrived; the source closes the link.
      await sink(openEndpoint<BenchMsg>(c.end, { wait: c.wait }), c.count);
      return {};
    case 'comlink-expose':
      Comlink.expose(callTarget, nodeEndpoint(c.port));
      return {};
    case 'comlink-ping': {
      const remote = Comlink.wrap<CallTarget>(nodeEndpoint(c.port));
      const samples = await pingCalls((m) => remote.echo(m), c.plan);
      remote[Comlink.releaseProxy]();
      c.port.close();
      return { samples };
    }
    case 'comlink-stream': {
      const remote = Comlink.wrap<CallTarget>(nodeEndpoint(c.port));
      const elapsedMs = await streamCalls((m) => remote.take(m), c.plan);
      remote[Comlink.releaseProxy]();
      c.port.close();
      return { elapsedMs };
    }
  }
}

const onCommand = (c: BenchCommand): void => {
  if (c.cmd === 'exit') {
    port.off('message', onCommand);
    return;
  }
  run(c).then(
    (reply) => port.postMessage({ id: c.id, ...reply } satisfies BenchReply, reply.samples ? [reply.samples.buffer as ArrayBuffer] : []),
    (err: unknown) => port.postMessage({ id: c.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies BenchReply),
  );
};
port.on('message', onCommand);
