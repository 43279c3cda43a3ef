/**
 * Progress of long work (sweeps, chaos runs, benchmarks) on stderr, the one
 * place every command gets it from. On a terminal it is a bar (or, with no
 * known total, a status line) redrawn in place. Without one — a CI log, a
 * pipe, `nohup` — redrawing would fill the log with escape codes, and
 * printing nothing leaves the reader unable to tell a long sweep from a hung
 * one; so it prints one line when the work starts and then a line every
 * {@link PROGRESS_INTERVAL_MS}, with what is done, the rate so far and
 * the time left.
 */
import { Presets, SingleBar } from 'cli-progress';

/** Without a terminal, a progress line is printed at most this often (ms). */
export const PROGRESS_INTERVAL_MS = 5000;

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Names the command in every line: `synod sim`. */
  readonly command: string;
  /** What is counted: `seeds`, `steps`. */
  readonly unit: string;
  /** How many there are, if known: a bar, a percentage and the time left. */
  readonly total?: number;
  /** False shows nothing at all (--no-progress). */
  readonly enabled: boolean;
  /** Where it goes. Default: process.stderr. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Whether `stream` is a terminal. Default: its isTTY. */
  readonly tty?: boolean;
  /** Without a terminal, the least time between two lines (ms). Default {@link PROGRESS_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** The clock (ms). Default performance.now; tests pass their own. */
  readonly now?: () => number;
}

/** A progress display; see {@link createProgress}. */
export interface Progress {
  /** `done` of the total are done; `detail` says what is happening now (shown after the count). */
  update(done: number, detail?: string): void;
  /** Runs `write`, which prints on stdout, without it tangling with a status line redrawn on the same terminal. */
  around(write: () => void): void;
  /** Removes the bar or status line (a terminal); prints nothing more. */
  stop(): void;
}

const seconds = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

/** A progress display on stderr for long work: a bar on a terminal, else a line every few seconds. */
export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? (() => performance.now());
  const nothing: Progress = { update: () => {}, around: (write) => write(), stop: () => {} };
  if (!o.enabled) return nothing;
  const tty = o.tty ?? stream.isTTY === true;
  if (tty) return o.total !== undefined ? terminalBar(o, o.total, stream) : terminalLine(o, stream);

  const interval = o.intervalMs ?? PROGRESS_INTERVAL_MS;
  const t0 = now();
  let last = t0;
  stream.write(`${o.command}: ${o.total !== undefined ? `${o.total} ${o.unit} to go` : 'started'}; progress every ${seconds(interval)} on stderr\n`);
  return {
    update(done, detail) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      // Without a total the caller's detail says it all (chaos: rounds, decisions, time).
      if (o.total === undefined && detail) {
        stream.write(`${o.command}: ${detail}\n`);
        return;
      }
      const elapsed = t - t0;
      const parts = [o.total !== undefined ? `${done}/${o.total} ${o.unit} (${((100 * done) / Math.max(1, o.total)).toFixed(1)}%)` : `${done} ${o.unit}`, `${seconds(elapsed)} in`];
      if (o.total !== undefined && done > 0 && done < o.total) parts.push(`about ${seconds(((o.total - done) * elapsed) / done)} left`);
      stream.write(`${o.command}: ${parts.join(', ')}${detail ? `; ${detail}` : ''}\n`);
    },
    around: (write) => write(),
    stop: () => {},
  };
}

function terminalBar(o: ProgressOptions, total: number, stream: NodeJS.WritableStream): Progress {
  const bar = new SingleBar({ stream, format: `${o.unit} {bar} {value}/{total} {percentage}% | {eta_formatted} left{detail}`, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  bar.start(total, 0, { detail: '' });
  return {
    update: (done, detail) => bar.update(done, { detail: detail ? ` | ${detail}` : '' }),
    around: (write) => write(),
    stop: () => bar.stop(),
  };
}

function terminalLine(o: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  let shown = '';
  const clear = () => {
    if (shown !== '') stream.write('\r\x1b[K');
  };
  return {
    update(done, detail) {
      shown = `${o.command}: ${detail ?? `${done} ${o.unit}`}`;
      stream.write(`\r\x1b[K${shown}`);
    },
    around(write) {
      clear();
      write();
      if (shown !== '') stream.write(`\r\x1b[K${shown}`);
    },
    stop() {
      clear();
      shown = '';
    },
  };
}
