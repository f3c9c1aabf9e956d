import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import type { Clock } from '../shared/clock.js';
import type { ApiEnv } from './env.js';

/**
 * A number that moves on every write of the store's connection (SQLite: `total_changes()`), read
 * through {@link ResourceDeps.changeCounter}. Equal readings mean: no row was inserted, updated or
 * deleted in between, so anything computed from the store is still what it would compute now.
 */
export type ChangeCounter = () => number;

/** Entries kept at most (least recently used go first). */
export const READ_CACHE_MAX_ENTRIES = 256;
/** Bytes of bodies kept at most, so 256 pages of 500 rows cannot take hundreds of megabytes. */
export const READ_CACHE_MAX_BYTES = 32 * 1024 * 1024;
/**
 * How long an entry lives even without a write. Some answers change with time alone: a binding
 * whose `expires_at` passes leaves the lists (and an extension's `contacts` count) without any
 * write, and the registrar's live qualify results (reachable, RTT) are not in the store at all. So a
 * cached list may be up to this old in those respects; after any write through this process's
 * connection it is never served.
 */
export const READ_CACHE_MAX_AGE_MS = 1000;

interface Entry {
  body: Uint8Array<ArrayBuffer>;
  changes: number;
  at: number;
}

/**
 * Exact cache of serialized JSON list answers. An entry is served only while the store's change
 * counter has not moved since the counter reading taken *before* the entry's queries ran (a write
 * landing between that reading and the queries only makes the entry expire sooner), and for at
 * most {@link READ_CACHE_MAX_AGE_MS}. So a write through the API or by the registrar (same process,
 * same connection) is visible to the very next request.
 *
 * Limits: writes by *another* process on the same database file (a CLI, a second node) do not move
 * this connection's counter; they show within the max age. Background writers of this process (the
 * request log flushes every ~250 ms, `last_used_at` of API keys) move the counter too, which only
 * costs misses.
 */
export class ReadCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  readonly #changes: ChangeCounter;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;

  constructor(options: { changes: ChangeCounter; clock: Pick<Clock, 'now'>; maxEntries?: number; maxBytes?: number; maxAgeMs?: number }) {
    this.#changes = options.changes;
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries ?? READ_CACHE_MAX_ENTRIES;
    this.#maxBytes = options.maxBytes ?? READ_CACHE_MAX_BYTES;
    this.#maxAgeMs = options.maxAgeMs ?? READ_CACHE_MAX_AGE_MS;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cached body for `key`, or else computes it with `compute` and keeps it. The counter is read
   * before `compute` starts, and the entry is stored under that reading.
   */
  async getOrCompute(key: string, compute: () => Promise<string>): Promise<Uint8Array<ArrayBuffer>> {
    const changes = this.#changes();
    const now = this.#clock.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      const age = now - hit.at;
      if (hit.changes === changes && age >= 0 && age < this.#maxAgeMs) {
        // Most recently used goes last, so the first key is the one to evict.
        this.#entries.delete(key);
        this.#entries.set(key, hit);
        return hit.body;
      }
      this.#remove(key, hit);
    }
    // Kept as UTF-8 bytes: each hit then skips measuring and encoding the text for the socket.
    const body = Buffer.from(await compute(), 'utf8');
    this.#store(key, { body, changes, at: now });
    return body;
  }

  #store(key: string, entry: Entry): void {
    if (entry.body.length > this.#maxBytes) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    this.#entries.set(key, entry);
    this.#bytes += entry.body.length;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry];
      this.#remove(oldestKey, oldest);
    }
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.body.length;
  }
}

/** `c.json`'s content type, so cached and uncached answers carry the same headers. */
const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/**
 * The cache key of a request: tenant, route template and the full URL as path plus sorted query
 * (so `?b=1&a=2` and `?a=2&b=1` share an entry). Everything a list answer depends on besides the
 * store is in it: the scope check ran before, and the answer does not depend on which key asked.
 */
export function readCacheKey(tenantId: string, route: string, url: string): string {
  const u = new URL(url);
  u.searchParams.sort();
  return `${tenantId}\n${route}\n${u.pathname}?${u.searchParams.toString()}`;
}

/**
 * A 200 JSON answer of a read route through `cache` (without one, as `c.json` would answer): the
 * body is serialized once per entry and sent as the same bytes with the same headers.
 */
export async function cachedJson<T extends object>(
  c: Context<ApiEnv>,
  cache: ReadCache | undefined,
  options: { tenantId: string; route: string },
  compute: () => Promise<T>,
): Promise<JsonAnswer<T>> {
  if (cache === undefined) {
    const value: T = await compute();
    return c.json(value, 200) as JsonAnswer<T>;
  }
  const key = readCacheKey(options.tenantId, options.route, c.req.url);
  const body = await cache.getOrCompute(key, async () => JSON.stringify(await compute()));
  // The same bytes `c.json` would send; typed as its answer so route handlers keep their types.
  return c.body(body, 200, JSON_HEADERS) as unknown as JsonAnswer<T>;
}

/** What `c.json(value, 200)` returns for a `T`. */
type JsonAnswer<T extends object> = Response & TypedResponse<JSONParsed<T>, 200, 'json'>;
