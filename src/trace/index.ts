/**
 * Traces: every send, receive, drop, persist, crash and restart of a run as
 * an event on its actor's lane, with a vector clock and the describe() text;
 * built by the simulator or the worker-thread runtime, written as JSON, as a
 * ShiViz log, or as a self-contained HTML space-time diagram. This layer
 * knows the format, not its producers: the traces of simulated runs
 * (traceSimulation, traceKvSimulation) are made in src/sim/trace.ts.
 */
export * from './types.js';
export { TraceBuilder, happenedBefore } from './builder.js';
export { checkClocks, type ClockProblem } from './check.js';
export { toShiViz, SHIVIZ_REGEX } from './shiviz.js';
export { toHtml, type HtmlOptions } from './html.js';
export { writeTraceFile, traceFormatOf, formatTrace, toJson, TRACE_FORMATS, type TraceFormat } from './write.js';
