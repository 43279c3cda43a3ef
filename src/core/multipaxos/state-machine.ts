/**
 * The replicated key-value state machine: get, put (write) and cas over
 * independent registers, applied in log order, with per-client sessions so a
 * retried command is applied exactly once.
 */
import { canonicalJson, type Value } from '../value.js';
import type { Command, KvResult } from './types.js';

/** The state machine's state. Keys absent from `data` hold null. */
export interface KvState {
  readonly data: Map<string, Value>;
  /** Per client: the last sequence number applied and its result. */
  readonly sessions: Map<string, { readonly seq: number; readonly result: KvResult }>;
}

/** An empty store. */
export function emptyKv(): KvState {
  return { data: new Map(), sessions: new Map() };
}

/**
 * Applies `cmd` unless this client's session shows it (or a later command)
 * was applied already. Returns the result to give the client: the original
 * result for the latest command, null for an older duplicate (nobody waits for it).
 */
export function applyCommand(kv: KvState, cmd: Command): KvResult | null {
  const session = kv.sessions.get(cmd.clientId);
  if (session && cmd.seq <= session.seq) return cmd.seq === session.seq ? session.result : null;
  const result = execute(kv, cmd);
  kv.sessions.set(cmd.clientId, { seq: cmd.seq, result });
  return result;
}

/** Reads a key without going through the log (used only by the stale-read control bug). */
export function readLocal(kv: KvState, key: string): Value {
  return kv.data.get(key) ?? null;
}

function execute(kv: KvState, cmd: Command): KvResult {
  const op = cmd.op;
  switch (op.f) {
    case 'read':
      return { f: 'read', value: kv.data.get(op.key) ?? null };
    case 'write':
      kv.data.set(op.key, op.value);
      return { f: 'write' };
    case 'cas': {
      const current = kv.data.get(op.key) ?? null;
      if (canonicalJson(current) !== canonicalJson(op.from)) return { f: 'cas', ok: false };
      kv.data.set(op.key, op.to);
      return { f: 'cas', ok: true };
    }
  }
}
