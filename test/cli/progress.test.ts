// The progress helper every long command uses, on a clock the test moves:
// without a terminal, a line at the start and then at most one per interval.
import { describe, expect, it } from 'vitest';
import { createProgress, PROGRESS_INTERVAL_MS } from '../../src/util/progress.js';

function sink() {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WritableStream };
}

describe('createProgress without a terminal', () => {
  it('prints a line at the start, then one per interval however often it is updated, with the count, the share and the time left', () => {
    const { lines, stream } = sink();
    let now = 0;
    const p = createProgress({ command: 'synod sim', unit: 'seeds', total: 1000, enabled: true, stream, tty: false, now: () => now });
    expect(lines).toEqual(['synod sim: 1000 seeds to go; progress every 5 s on stderr\n']);
    for (let done = 1; done <= 100; done++) {
      now = done * 100; // 100 updates over 10 s
      p.update(done);
    }
    p.stop();
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('synod sim: 50/1000 seeds (5.0%), 5 s in, about 1 min 35 s left\n');
    expect(lines[2]).toBe('synod sim: 100/1000 seeds (10.0%), 10 s in, about 1 min 30 s left\n');
    expect(PROGRESS_INTERVAL_MS).toBe(5000);
  });

  it('without a total, prints the detail it is given', () => {
    const { lines, stream } = sink();
    let now = 0;
    const p = createProgress({ command: 'synod chaos', unit: 'rounds', enabled: true, stream, tty: false, intervalMs: 1000, now: () => now });
    now = 999;
    p.update(1, '1 round(s) done');
    now = 1000;
    p.update(2, '2 round(s) done');
    expect(lines).toEqual(['synod chaos: started; progress every 1 s on stderr\n', 'synod chaos: 2 round(s) done\n']);
  });

  it('prints nothing when disabled (--no-progress), and runs what it wraps', () => {
    const { lines, stream } = sink();
    const p = createProgress({ command: 'synod sim', unit: 'seeds', total: 10, enabled: false, stream, tty: false, now: () => 1e9 });
    let ran = false;
    p.update(5);
    p.around(() => (ran = true));
    p.stop();
    expect(lines).toEqual([]);
    expect(ran).toBe(true);
  });

  it('on a terminal without a total, clears its status line around output and when stopped', () => {
    const { lines, stream } = sink();
    const p = createProgress({ command: 'synod chaos', unit: 'rounds', enabled: true, stream, tty: true });
    p.update(1, '1 round(s) done');
    p.around(() => lines.push('<stdout>'));
    p.stop();
    expect(lines).toEqual(['\r\x1b[Ksynod chaos: 1 round(s) done', '\r\x1b[K', '<stdout>', '\r\x1b[Ksynod chaos: 1 round(s) done', '\r\x1b[K']);
  });
});
