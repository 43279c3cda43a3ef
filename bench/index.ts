/**
 * The benchmark suite (package subpath `synod/bench`): what `synod bench`
 * runs, for a program that wants to run it, or some of it, and read the
 * results itself. Kept off the package root because it loads the libraries
 * only the message-path comparisons need (comlink, piscina, msgpackr).
 */
export * from './suite.js';
export type { BenchContext, BenchDef } from './lib/context.js';
export type { Better, BenchOutput, BenchResult, Chart, Env, Figure, Goal, Series, SuiteReport, Table } from './lib/report.js';
export { renderHtml } from './lib/html.js';
