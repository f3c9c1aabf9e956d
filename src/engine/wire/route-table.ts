/**
 * Which app connections want which new requests (docs/drachtio-protocol.md §3.1 verbs, §4.1
 * routing rule): round-robin among the connections that routed a verb, optionally only those
 * carrying a tag.
 */
import type { ClientConnection } from './client-connection.js';

/**
 * Verb → connections, kept in routing order. Verbs are stored lowercased, because the server
 * matches the lowercased incoming method against them.
 */
export class RouteTable {
  private readonly byVerb = new Map<string, ClientConnection[]>();
  /** Round-robin position per verb (and per verb + tag), advanced on every pick. */
  private readonly cursors = new Map<string, number>();

  /** Adds a route; false when that connection already routed the verb. */
  add(verb: string, conn: ClientConnection): boolean {
    const key = verb.toLowerCase();
    const list = this.byVerb.get(key);
    if (!list) {
      this.byVerb.set(key, [conn]);
      return true;
    }
    if (list.includes(conn)) return false;
    list.push(conn);
    return true;
  }

  /** Removes one route of one connection; false when there was none. */
  remove(verb: string, conn: ClientConnection): boolean {
    const key = verb.toLowerCase();
    const list = this.byVerb.get(key);
    const i = list ? list.indexOf(conn) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.byVerb.delete(key);
    return true;
  }

  /** Removes every route of a connection (it closed). */
  removeAll(conn: ClientConnection, verbs: Iterable<string>): void {
    for (const verb of verbs) this.remove(verb, conn);
  }

  /** The connections that routed `verb`, in routing order (a copy). */
  clientsFor(verb: string): ClientConnection[] {
    return [...(this.byVerb.get(verb.toLowerCase()) ?? [])];
  }

  /**
   * The next connection, round-robin, among those that routed `verb` and — when `tag` is given —
   * listed that tag when they authenticated. Undefined when none qualifies (the caller answers 503).
   */
  pick(verb: string, tag?: string): ClientConnection | undefined {
    const key = verb.toLowerCase();
    const all = this.byVerb.get(key);
    if (!all || all.length === 0) return undefined;
    const candidates = tag === undefined ? all : all.filter((c) => c.hasTag(tag));
    if (candidates.length === 0) return undefined;
    const cursorKey = tag === undefined ? key : `${key}\u0000${tag}`;
    const n = this.cursors.get(cursorKey) ?? 0;
    // Keep the counter small; it only needs to cycle.
    this.cursors.set(cursorKey, (n + 1) % 1_000_000_007);
    return candidates[n % candidates.length];
  }
}
