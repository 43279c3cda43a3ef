/**
 * synod: Paxos for Node.js. The package root is what an application uses:
 * the single-decree cluster (`createCluster`), the replicated key-value
 * store (`createKvCluster`), their options, events and reports, the one
 * error type (`SynodError`), and writing a cluster's trace to a file
 * (`writeTraceFile`, `toHtml`, `toShiViz`).
 *
 * Everything else has its own subpath, so that the root stays small and an
 * internal change does not break code that only uses the root:
 *
 * - `synod/core`: the pure protocol core of single-decree Paxos
 * - `synod/core/multipaxos`: the pure Multi-Paxos core (the replicated log and its `StateMachine` interface)
 * - `synod/machines`: the state machines the log carries (the key-value store, a counter)
 * - `synod/sim`: the deterministic simulator, sweeps, shrinking, transcripts
 * - `synod/check`: the safety checkers and the linearizability checker
 * - `synod/trace`: traces, vector clocks, the HTML viewer and ShiViz output
 * - `synod/transports`: the message paths between threads (port, hub, ring)
 * - `synod/runtime`: the runtime's parts (supervisor, mailbox, stores, wire)
 * - `synod/bench`: the benchmark suite behind `synod bench`
 *
 * The names below are re-exported from those subpath entry points (never
 * from the files behind them), so moving code between files only touches
 * the subpath's index.
 */
export {
  createCluster,
  Cluster,
  createKvCluster,
  KvCluster,
  SynodError,
  type ClusterOptions,
  type SharedClusterOptions,
  type ClusterEvents,
  type ProposeOptions,
  type DecideEvent,
  type DurableEvent,
  type KvClusterOptions,
  type KvClusterEvents,
  type KvClientStats,
  type ElectedEvent,
  type SynodErrorCode,
  type CrashMode,
  type CrashPoint,
  type CrashEvent,
  type RestartEvent,
  type FailedEvent,
  type ActorStatus,
  type ActorReport,
  type SupervisorOptions,
  type LinkFaults,
  type MpActorReport,
  type KvView,
  type KvReconfiguration,
  type ReplacePolicy,
  type ReplaceEvent,
  type ReplaceFailedEvent,
  formatHealth,
  type ClusterHealth,
  type ActorHealth,
  type LinkHealth,
  type SystemHealth,
  type HealthChange,
  type HealthTarget,
  type HealthStatus,
  type LinkStatus,
  type HealthEvents,
  type SystemCrashMode,
  type DetectorOptions,
} from './runtime/index.js';
export type { TransportKind } from './runtime/transports/index.js';
export type { ActorId, Ballot, Membership, Value, AcceptedProposal, DurableRecord } from './core/index.js';
export type { Violation, ViolationKind, SafetyChecker, LogSafetyChecker, HistoryEvent } from './check/index.js';
export { writeTraceFile, toHtml, toShiViz, type Trace, type TraceEvent, type TraceFormat, type HtmlOptions } from './trace/index.js';
