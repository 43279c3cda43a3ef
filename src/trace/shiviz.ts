/**
 * Export to the log format of ShiViz, the space-time visualiser for vector-
 * clocked logs (https://bestchai.bitbucket.io/shiviz/, source at
 * github.com/DistributedClocks/shiviz).
 *
 * ShiViz reads a log with a regular expression that has named groups `event`,
 * `host` and `clock` (a JSON object host -> count), matched with the flags
 * `m` and `g`. A log file uploaded to it starts with two lines it takes as
 * settings: the parser expression (it adds `^` and `$` around it) and the
 * delimiter between executions (empty: one execution). We use ShiViz's
 * default expression, one event as two lines:
 *
 *     (?<event>.*)\n(?<host>\S*) (?<clock>{.*})
 *     <empty line>
 *     send p1->a1 prepare 1.p1 [send t=12 m7]
 *     p1 {"p1":3}
 *     ...
 *
 * ShiViz insists that each host's own clock entry starts at 1 and goes up by
 * exactly 1 per event, that every entry names a host of the log within the
 * events it has, and that clocks are transitive; the {@link TraceBuilder}'s
 * clocks are (see `check.ts`). Host names cannot hold white space and event
 * text cannot hold a line break, so both are replaced.
 */
import type { Trace } from './types.js';

/** The parser expression ShiViz is given on the first line of the file. */
export const SHIVIZ_REGEX = String.raw`(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`;

/** The trace as a ShiViz log file: the parser expression, an empty delimiter line, then two lines per event. */
export function toShiViz(trace: Trace): string {
  const hosts = hostNames([...trace.actors, ...trace.events.map((e) => e.actor)]);
  const out: string[] = [SHIVIZ_REGEX, ''];
  for (const e of trace.events) {
    const clock: Record<string, number> = {};
    for (const [lane, n] of Object.entries(e.vc)) if (n > 0) clock[hosts.get(lane) ?? lane] = n;
    const tags = [e.kind, `t=${e.time}`, ...(e.msg !== undefined ? [e.msg] : [])].join(' ');
    out.push(`${oneLine(e.text)} [${oneLine(tags)}]`);
    out.push(`${hosts.get(e.actor)} ${JSON.stringify(clock)}`);
  }
  return `${out.join('\n')}\n`;
}

/** Maps each lane to a host name without white space, keeping names distinct. */
function hostNames(lanes: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const lane of lanes) {
    if (names.has(lane)) continue;
    const base = lane.replace(/\s+/g, '_') || '_';
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}~${k}`;
    used.add(name);
    names.set(lane, name);
  }
  return names;
}

function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n|\u2028|\u2029/g, ' ');
}
