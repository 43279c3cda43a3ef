/**
 * Writing a trace to a file, in the format its name asks for: `.json` (the
 * trace itself), `.html` (the self-contained viewer, see `html.ts`) or
 * `.shiviz` / `.log` (the ShiViz log, see `shiviz.ts`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { toHtml } from './html.js';
import { toShiViz } from './shiviz.js';
import type { Trace } from './types.js';

/** The file formats a trace can be written in. */
export const TRACE_FORMATS = ['json', 'html', 'shiviz'] as const;
/** One of {@link TRACE_FORMATS}. */
export type TraceFormat = (typeof TRACE_FORMATS)[number];

const EXTENSIONS: Record<string, TraceFormat> = { '.json': 'json', '.html': 'html', '.htm': 'html', '.shiviz': 'shiviz', '.log': 'shiviz' };

/** The format a file name asks for by its extension; throws a clear error for any other extension. */
export function traceFormatOf(path: string): TraceFormat {
  const ext = extname(path).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined) {
    throw new Error(`cannot tell the trace format of ${JSON.stringify(path)} from its extension${ext ? ` ${JSON.stringify(ext)}` : ''}: use .json, .html, .shiviz or .log, or name the format (json, html, shiviz)`);
  }
  return format;
}

/** The trace as JSON: the header fields, then one event per line (still one JSON value). */
export function toJson(trace: Trace): string {
  const { events, ...head } = trace;
  const header = JSON.stringify(head).slice(0, -1);
  const body = events.map((e) => JSON.stringify(e)).join(',\n');
  return `${header},"events":[\n${body}\n]}\n`;
}

/** The trace in `format`. */
export function formatTrace(trace: Trace, format: TraceFormat): string {
  switch (format) {
    case 'json':
      return toJson(trace);
    case 'html':
      return toHtml(trace);
    case 'shiviz':
      return toShiViz(trace);
  }
}

/** Writes `trace` to `path` (creating its directory) in `format`, or in the format its extension names. */
export async function writeTraceFile(path: string, trace: Trace, format?: TraceFormat): Promise<void> {
  const f = format ?? traceFormatOf(path);
  if (!(TRACE_FORMATS as readonly string[]).includes(f)) throw new Error(`unknown trace format ${JSON.stringify(f)}: use json, html or shiviz`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, formatTrace(trace, f), 'utf8');
}
