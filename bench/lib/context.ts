/** The contract between the suite (bench/suite.ts) and each benchmark. */
import type { BenchOutput } from './report.js';

/** What the suite gives a running benchmark. */
export interface BenchContext {
  readonly quick: boolean;
  /** Timed repeats (after a discarded warm-up). */
  readonly repeats: number;
  /** Reports one unit of work done (the progress bar advances); `detail` names what comes next. */
  step(detail?: string): void;
}

/** A named benchmark with a quick and a full configuration. */
export interface BenchDef {
  readonly name: string;
  readonly title: string;
  /** What it measures, one or two sentences (shown in the HTML report and `synod bench --help`). */
  readonly description: string;
  /** Default repeats for the quick and the full configuration. */
  readonly repeats: { readonly quick: number; readonly full: number };
  /** How many units of work `run` reports through `step`, for the progress bar. */
  steps(quick: boolean, repeats: number): number;
  run(ctx: BenchContext): Promise<BenchOutput>;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
