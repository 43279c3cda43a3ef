/**
 * `synod bench --compare OLD.json NEW.json`: for every figure present in
 * both reports, the old and new medians, new/old, and whether that moved in
 * the better direction (each figure says whether lower or higher is better)
 * — or only "within noise", when the old and new ranges over the repeats
 * overlap: a median that moved inside the spread of the runs is not a
 * change anyone can claim.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fmt, renderTable, type Table } from './lib/report.js';

/** OLD and NEW cannot be compared; the message says why. */
export class CompareError extends Error {
  override readonly name = 'CompareError';
}

const figureSchema = z.object({ value: z.number(), min: z.number().optional(), max: z.number().optional(), unit: z.string(), better: z.enum(['lower', 'higher']) });
const reportSchema = z.object({
  env: z.object({ date: z.string().optional(), commit: z.string().nullable().optional() }).passthrough(),
  options: z.object({ quick: z.boolean().optional() }).passthrough().optional(),
  results: z.record(z.string(), z.object({ figures: z.record(z.string(), figureSchema) }).passthrough()),
});

type Report = z.infer<typeof reportSchema>;

/** Reads and checks one `synod bench --json` (or `--json-out FILE`) report. */
export function loadReport(file: string): Report {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CompareError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CompareError(`${file} is not JSON (${(err as Error).message}); pass files written by synod bench --json-out FILE`);
  }
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new CompareError(`${file} is not a synod bench --json report (${problems.join('; ')})`);
  }
  return parsed.data;
}

/** One compared figure. */
export interface ComparedFigure {
  readonly bench: string;
  readonly figure: string;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  readonly old: number;
  readonly new: number;
  /** new / old; null when old is 0 or either is not finite. */
  readonly ratio: number | null;
  /** 'within noise': the medians differ but the old and new ranges (min-max over the repeats) overlap. */
  readonly verdict: 'better' | 'worse' | 'within noise' | 'same' | 'n/a';
}

/** Whether the ranges (min-max over the repeats; the value alone when a report has none) of two figures overlap. */
export function rangesOverlap(a: { value: number; min?: number | undefined; max?: number | undefined }, b: { value: number; min?: number | undefined; max?: number | undefined }): boolean {
  const lo = (f: typeof a) => Math.min(f.min ?? f.value, f.value);
  const hi = (f: typeof a) => Math.max(f.max ?? f.value, f.value);
  return lo(a) <= hi(b) && lo(b) <= hi(a);
}

/** Compares the figures two reports share; throws a {@link CompareError} when they share none or disagree on a unit. */
export function compareReports(oldR: Report, newR: Report, names = { old: 'OLD', new: 'NEW' }): { figures: ComparedFigure[]; onlyOld: number; onlyNew: number } {
  const figures: ComparedFigure[] = [];
  let onlyOld = 0;
  let onlyNew = 0;
  for (const [bench, o] of Object.entries(oldR.results)) {
    const n = newR.results[bench];
    for (const [key, fo] of Object.entries(o.figures)) {
      const fn = n?.figures[key];
      if (!fn) {
        onlyOld++;
        continue;
      }
      if (fo.unit !== fn.unit || fo.better !== fn.better) throw new CompareError(`${bench} ${key} is in ${fo.unit} (${fo.better} is better) in ${names.old} but in ${fn.unit} (${fn.better} is better) in ${names.new}; these reports measure different things`);
      const ratio = Number.isFinite(fo.value) && Number.isFinite(fn.value) && fo.value !== 0 ? fn.value / fo.value : null;
      const verdict = ratio === null ? 'n/a' : ratio === 1 ? 'same' : rangesOverlap(fo, fn) ? 'within noise' : (ratio < 1) === (fo.better === 'lower') ? 'better' : 'worse';
      figures.push({ bench, figure: key, unit: fo.unit, better: fo.better, old: fo.value, new: fn.value, ratio, verdict });
    }
  }
  for (const [bench, n] of Object.entries(newR.results)) for (const key of Object.keys(n.figures)) if (!oldR.results[bench]?.figures[key]) onlyNew++;
  if (figures.length === 0) {
    const benches = (r: Report) => Object.keys(r.results).join(', ') || 'none';
    throw new CompareError(`${names.old} and ${names.new} share no figure (${names.old} has benchmarks: ${benches(oldR)}; ${names.new}: ${benches(newR)}); compare reports of the same benchmarks`);
  }
  return { figures, onlyOld, onlyNew };
}

/** Formats a ratio: 3 decimals, an x. */
export const fmtRatio = (r: number | null) => (r === null ? '-' : `${r.toFixed(3)}x`);

/** The comparison as text: one table per benchmark. */
export function renderComparison(oldFile: string, newFile: string, oldR: Report, newR: Report): string {
  const { figures, onlyOld, onlyNew } = compareReports(oldR, newR, { old: oldFile, new: newFile });
  const out: string[] = [];
  const when = (r: Report) => `${r.env.date ?? 'unknown date'}, commit ${r.env.commit ?? 'unknown'}`;
  out.push(`old: ${oldFile} (${when(oldR)})`);
  out.push(`new: ${newFile} (${when(newR)})`);
  out.push('new/old < 1 is better for figures where lower is better (latencies), > 1 where higher is better (rates)');
  out.push('within noise: the old and new ranges (min-max over the repeats) overlap, so the move is not a measured change; a figure from one run has no range');
  const mode = (r: Report) => (r.options?.quick === true ? 'quick' : r.options?.quick === false ? 'full' : null);
  if (mode(oldR) !== null && mode(newR) !== null && mode(oldR) !== mode(newR)) out.push(`note: old is a ${mode(oldR)} run and new a ${mode(newR)} run; their figures come from different sample counts, so compare with care`);
  for (const bench of [...new Set(figures.map((f) => f.bench))]) {
    const rows = figures.filter((f) => f.bench === bench).map((f) => [f.figure, f.unit, fmt(f.old), fmt(f.new), fmtRatio(f.ratio), `${f.better} is better`, f.verdict]);
    const t: Table = { title: `== ${bench}`, head: ['figure', 'unit', 'old', 'new', 'new/old', 'direction', 'verdict'], rows };
    out.push('');
    out.push(renderTable(t));
  }
  const better = figures.filter((f) => f.verdict === 'better').length;
  const worse = figures.filter((f) => f.verdict === 'worse').length;
  const noise = figures.filter((f) => f.verdict === 'within noise').length;
  out.push('');
  out.push(`${figures.length} figures compared: ${better} better, ${worse} worse, ${noise} within noise, ${figures.length - better - worse - noise} same or n/a; ${onlyOld} only in old, ${onlyNew} only in new`);
  return `${out.join('\n')}\n`;
}
