/**
 * The cluster's view of who is alive, put together on the main thread from
 * two sources: the supervisor, which knows for certain when an actor's
 * thread is gone (and when it is back), and every actor's own failure
 * detector (src/host/failure-detector.ts), which reports the peers it stops
 * and starts hearing. Pure, with its clock injected, so the rules below are
 * tested without threads; the cluster base (supervised.ts) feeds it.
 *
 * The rules, for telling a dead process from a dead link from a dead system:
 *   - a link is ordered, `from -> to`, and judged by its receiver: it is
 *     `suspected` while `to` does not hear `from`. A receiver that is down
 *     judges nothing, so its incoming links are not listed until it is back;
 *   - an actor is `dead` while its thread is not running (the supervisor saw
 *     it exit; it may be restarting). It is `suspected` while its thread
 *     runs but none of its live peers hears it: a hung process, or one cut
 *     off from every peer, which is what a dead process looks like from the
 *     network. It is `alive` while at least one peer hears it; peers that do
 *     not are dead links, listed in `unheardBy`;
 *   - a system (a named group of actors: a machine) is `dead` when every
 *     one of its actors is dead, `suspected` when each is dead or suspected,
 *     and `alive` otherwise: one dead process does not make a dead machine.
 */
import type { ActorId } from '../core/ids.js';
import type { PeerChange } from '../host/failure-detector.js';

/** What the cluster thinks of an actor or a system. */
export type HealthStatus = 'alive' | 'suspected' | 'dead';

/** What the receiver of a link thinks of it. */
export type LinkStatus = 'alive' | 'suspected';

/** One actor's health. */
export interface ActorHealth {
  readonly status: HealthStatus;
  /** When it took this status (epoch ms). */
  readonly since: number;
  /** Why, in words: how it died, or who does not hear it. */
  readonly why: string;
  /** The system it is placed on, or null. */
  readonly system: string | null;
  /** The live peers that do not hear it (each such link is suspected). */
  readonly unheardBy: readonly ActorId[];
}

/** One directed link's health, as its receiver `to` judges it. */
export interface LinkHealth {
  readonly from: ActorId;
  readonly to: ActorId;
  readonly status: LinkStatus;
  /** When it took this status (epoch ms). */
  readonly since: number;
}

/** One system's health. */
export interface SystemHealth {
  readonly actors: readonly ActorId[];
  readonly status: HealthStatus;
  /** When it took this status (epoch ms). */
  readonly since: number;
}

/** What `cluster.health()` returns. */
export interface ClusterHealth {
  /** When the report was made (epoch ms). */
  readonly at: number;
  readonly actors: Readonly<Record<ActorId, ActorHealth>>;
  /** Every link whose receiver is running, in a stable order. */
  readonly links: readonly LinkHealth[];
  readonly systems: Readonly<Record<string, SystemHealth>>;
}

/** What a {@link HealthChange} is about. */
export type HealthTarget = { readonly kind: 'actor'; readonly id: ActorId } | { readonly kind: 'link'; readonly from: ActorId; readonly to: ActorId } | { readonly kind: 'system'; readonly id: string };

/** An actor, link or system changed status: the payload of the `suspect` and `alive` events. */
export interface HealthChange {
  readonly target: HealthTarget;
  readonly status: HealthStatus;
  /** The status it had before. */
  readonly was: HealthStatus;
  /** When it changed (epoch ms). */
  readonly since: number;
  /** Why, in words. */
  readonly why: string;
}

/** The health events both clusters emit: `suspect` when an actor, link or system becomes suspected or dead, `alive` when it is alive again. */
export interface HealthEvents {
  suspect: [HealthChange];
  alive: [HealthChange];
}

/** The named systems of a cluster, each a list of actors. */
export type Systems = Readonly<Record<string, readonly ActorId[]>>;

/** Puts the health reports of a cluster together; see the module comment. */
export class HealthMonitor {
  /** Actors whose thread is not running, and why. */
  private readonly down = new Map<ActorId, string>();
  /** Per observer, the peers it suspects and since when. */
  private readonly suspicions = new Map<ActorId, Map<ActorId, number>>();
  private actors = new Map<ActorId, ActorHealth>();
  private links = new Map<string, LinkHealth>();
  private systemHealth = new Map<string, SystemHealth>();
  private readonly systemOf = new Map<ActorId, string>();

  /**
   * Watches `ids`, where `peersOf(id)` are the actors `id` talks to (each
   * watches the other), placed on `systems`. Every actor starts alive.
   */
  constructor(
    private ids: readonly ActorId[],
    private readonly peersOf: (id: ActorId) => readonly ActorId[],
    private readonly systems: Systems,
    private readonly clock: () => number,
  ) {
    for (const [system, actors] of Object.entries(systems)) for (const id of actors) this.systemOf.set(id, system);
    this.update(clock());
  }

  /**
   * Watches `ids` from now on (a reconfiguration added or removed actors):
   * an actor no longer listed is forgotten with what it suspected, a new one
   * starts alive. Returns the changes.
   */
  setActors(ids: readonly ActorId[]): HealthChange[] {
    for (const id of this.ids) {
      if (ids.includes(id)) continue;
      this.down.delete(id);
      this.suspicions.delete(id);
    }
    this.ids = ids;
    return this.update(this.clock());
  }

  /** Actor `id`'s thread is gone (`why` says how); what it suspected goes with it. Returns the changes. */
  threadDown(id: ActorId, why: string): HealthChange[] {
    this.down.set(id, why);
    this.suspicions.delete(id);
    return this.update(this.clock());
  }

  /** Actor `id` serves again, with a fresh detector that suspects nobody yet. Returns the changes. */
  threadUp(id: ActorId): HealthChange[] {
    this.down.delete(id);
    this.suspicions.delete(id);
    return this.update(this.clock());
  }

  /** `observer`'s detector reports `changes` about its peers. Reports from an actor that is down are stale and ignored. Returns the changes. */
  observed(observer: ActorId, changes: readonly PeerChange[]): HealthChange[] {
    if (this.down.has(observer)) return [];
    const out: HealthChange[] = [];
    for (const c of changes) {
      let mine = this.suspicions.get(observer);
      if (c.status === 'suspected') {
        if (mine === undefined) this.suspicions.set(observer, (mine = new Map()));
        mine.set(c.peer, c.since);
      } else mine?.delete(c.peer);
      out.push(...this.update(c.since));
    }
    return out;
  }

  /** The health of every actor, link and system now. */
  report(): ClusterHealth {
    return {
      at: this.clock(),
      actors: Object.fromEntries(this.actors),
      links: [...this.links.values()],
      systems: Object.fromEntries(this.systemHealth),
    };
  }

  /** Recomputes every status from the facts, keeping `since` where a status did not change; returns what changed. */
  private update(at: number): HealthChange[] {
    const changes: HealthChange[] = [];
    const change = (target: HealthTarget, was: HealthStatus, status: HealthStatus, since: number, why: string) => {
      if (was !== status) changes.push({ target, status, was, since, why });
    };

    const links = new Map<string, LinkHealth>();
    for (const to of this.ids) {
      if (this.down.has(to)) continue;
      const mine = this.suspicions.get(to);
      for (const from of this.peersOf(to)) {
        const key = `${from}->${to}`;
        const suspectedSince = mine?.get(from);
        const status: LinkStatus = suspectedSince === undefined ? 'alive' : 'suspected';
        const prev = this.links.get(key);
        const was = prev?.status ?? 'alive';
        const since = prev !== undefined && was === status ? prev.since : (suspectedSince ?? at);
        links.set(key, { from, to, status, since });
        change({ kind: 'link', from, to }, was, status, since, status === 'suspected' ? `${to} does not hear ${from}` : `${to} hears ${from} again`);
      }
    }
    this.links = links;

    const actors = new Map<ActorId, ActorHealth>();
    for (const id of this.ids) {
      const watchers = this.peersOf(id).filter((w) => !this.down.has(w));
      const unheardBy = watchers.filter((w) => this.suspicions.get(w)?.has(id) === true);
      let status: HealthStatus;
      let why: string;
      const down = this.down.get(id);
      if (down !== undefined) {
        status = 'dead';
        why = down;
      } else if (watchers.length > 0 && unheardBy.length === watchers.length) {
        status = 'suspected';
        why = `no live peer hears it (${unheardBy.join(', ')}), though its thread runs: hung, or cut off from all of them`;
      } else {
        status = 'alive';
        why = unheardBy.length > 0 ? `dead link(s): not heard by ${unheardBy.join(', ')}` : watchers.length === 0 ? 'its thread runs; no live peer watches it' : '';
      }
      const prev = this.actors.get(id);
      const since = prev !== undefined && prev.status === status ? prev.since : at;
      actors.set(id, { status, since, why, system: this.systemOf.get(id) ?? null, unheardBy });
      change({ kind: 'actor', id }, prev?.status ?? 'alive', status, since, why);
    }
    this.actors = actors;

    const systems = new Map<string, SystemHealth>();
    for (const [system, members] of Object.entries(this.systems)) {
      // An actor a reconfiguration removed is gone from its system, as from the cluster (a system left with none is dead).
      const statuses = members.filter((id) => actors.has(id)).map((id) => (actors.get(id) as ActorHealth).status);
      const status: HealthStatus = statuses.every((s) => s === 'dead') ? 'dead' : statuses.every((s) => s !== 'alive') ? 'suspected' : 'alive';
      const prev = this.systemHealth.get(system);
      const since = prev !== undefined && prev.status === status ? prev.since : at;
      systems.set(system, { actors: members, status, since });
      const why = status === 'dead' ? 'every actor on it is dead' : status === 'suspected' ? 'none of its actors is heard' : 'at least one of its actors is alive and heard';
      change({ kind: 'system', id: system }, prev?.status ?? 'alive', status, since, why);
    }
    this.systemHealth = systems;
    return changes;
  }
}

/** The health report as a table for people: systems, then actors, then the links that are not heard. */
export function formatHealth(h: ClusterHealth): string {
  const age = (since: number) => {
    const ms = Math.max(0, h.at - since);
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
  };
  const lines: string[] = ['health:'];
  const systems = Object.entries(h.systems);
  if (systems.length > 0) {
    lines.push('  systems:');
    for (const [id, s] of systems) lines.push(`    ${id.padEnd(6)} ${s.status.padEnd(9)} for ${age(s.since).padEnd(9)} ${s.actors.join(', ')}`);
  }
  lines.push('  actors:');
  for (const [id, a] of Object.entries(h.actors)) lines.push(`    ${id.padEnd(6)} ${a.status.padEnd(9)} for ${age(a.since).padEnd(9)}${a.system === null ? '' : ` on ${a.system}`}${a.why === '' ? '' : `  ${a.why}`}`.trimEnd());
  const cut = h.links.filter((l) => l.status === 'suspected');
  if (cut.length === 0) lines.push(`  links: every one of the ${h.links.length} links into a running actor is heard`);
  else {
    lines.push(`  links not heard (${cut.length} of ${h.links.length}):`);
    for (const l of cut) lines.push(`    ${`${l.from} -> ${l.to}`.padEnd(14)} suspected for ${age(l.since)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The actors in `systems` that are not in `ids`, and the actors placed on more than one system, as error text (null when there is none). */
export function systemsProblem(systems: Systems, ids: readonly ActorId[]): string | null {
  const problems: string[] = [];
  const seen = new Map<ActorId, string>();
  for (const [system, actors] of Object.entries(systems)) {
    for (const id of actors) {
      if (!ids.includes(id)) problems.push(`systems.${system} names ${JSON.stringify(id)}, which is not an actor of this cluster (the actors are ${ids.join(', ')})`);
      const other = seen.get(id);
      if (other !== undefined && other !== system) problems.push(`${id} is placed on two systems, ${other} and ${system}; an actor runs on one machine`);
      else if (other === system) problems.push(`systems.${system} names ${id} twice`);
      seen.set(id, system);
    }
  }
  return problems.length === 0 ? null : problems.join('; ');
}
