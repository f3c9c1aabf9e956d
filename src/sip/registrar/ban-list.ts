/**
 * Per-source authentication failure counting with temporary bans (reliability anchor R7,
 * anti-brute-force; RFC 3261 §26.3.2.4 on DoS protection for registrars). Pure state on an
 * injected {@link Clock}: the registrar asks {@link BanList.isBanned} before answering and drops
 * banned traffic silently.
 */
import type { Clock } from '../../shared/clock.js';

/** Options of {@link BanList}. */
export interface BanListOptions {
  clock: Clock;
  /** Failures within {@link BanListOptions.windowMs} that cause a ban (default 10). */
  maxFailures?: number;
  /** Sliding window for counting failures, in ms (default 60 000). */
  windowMs?: number;
  /** Ban duration in ms (default 300 000). */
  banMs?: number;
  /** Most sources tracked; the least recently seen is forgotten beyond it (default 100 000). */
  capacity?: number;
}

/** How many of the least recently used entries eviction inspects for an unbanned one. */
const EVICTION_SCAN = 64;

interface SourceState {
  /** Times of recent failures, oldest first; at most `maxFailures` entries. */
  failures: number[];
  /** Set while banned: the instant the ban ends. */
  bannedUntil?: number;
}

/**
 * Counts failures per source address in a sliding window; `maxFailures` of them within `windowMs`
 * ban the source for `banMs`. Memory is bounded by `capacity` sources (LRU; among the oldest
 * entries unbanned sources are evicted before bans, so a flood of new addresses cannot lift a ban
 * cheaply).
 */
export class BanList {
  private readonly clock: Clock;
  /** Failures within the window that start a ban (reported with the ban event). */
  readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly banMs: number;
  private readonly capacity: number;
  private readonly sources = new Map<string, SourceState>();

  constructor(options: BanListOptions) {
    this.clock = options.clock;
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.banMs = options.banMs ?? 300_000;
    this.capacity = options.capacity ?? 100_000;
    if (!(this.maxFailures >= 1) || !(this.capacity >= 1)) {
      throw new Error('BanList: maxFailures and capacity must be ≥ 1');
    }
  }

  /** True while `ip` is banned. An expired ban is cleared, with its failure history. */
  isBanned(ip: string): boolean {
    const state = this.sources.get(ip);
    if (state?.bannedUntil === undefined) return false;
    if (this.clock.now() < state.bannedUntil) return true;
    this.sources.delete(ip);
    return false;
  }

  /** When the ban of `ip` ends (clock time), or undefined if it is not banned. */
  bannedUntil(ip: string): number | undefined {
    return this.isBanned(ip) ? this.sources.get(ip)?.bannedUntil : undefined;
  }

  /**
   * Count one authentication failure from `ip`. Returns true exactly when this failure starts a
   * ban, so the caller can emit one `security.ban` event; failures while banned return false and
   * do not extend the ban.
   */
  recordFailure(ip: string): boolean {
    if (this.isBanned(ip)) return false;
    const now = this.clock.now();
    const state = this.touch(ip);
    const cutoff = now - this.windowMs;
    while (state.failures.length > 0 && (state.failures[0] ?? now) <= cutoff) state.failures.shift();
    state.failures.push(now);
    if (state.failures.length < this.maxFailures) return false;
    state.failures = [];
    state.bannedUntil = now + this.banMs;
    return true;
  }

  /** A successful authentication from `ip` clears its failure count (a ban stays until it ends). */
  recordSuccess(ip: string): void {
    const state = this.sources.get(ip);
    if (state && state.bannedUntil === undefined) this.sources.delete(ip);
  }

  /** Lift a ban (and forget the source) early, e.g. from an admin action. */
  unban(ip: string): void {
    this.sources.delete(ip);
  }

  /** Number of sources tracked (banned or with recent failures). */
  get size(): number {
    return this.sources.size;
  }

  private touch(ip: string): SourceState {
    const existing = this.sources.get(ip);
    if (existing) {
      this.sources.delete(ip);
      this.sources.set(ip, existing);
      return existing;
    }
    const state: SourceState = { failures: [] };
    this.sources.set(ip, state);
    if (this.sources.size > this.capacity) this.evictOne(ip);
    return state;
  }

  /**
   * Drop the least recently used unbanned source among the oldest {@link EVICTION_SCAN} entries,
   * else the oldest entry (a ban); the bounded scan keeps inserts O(1) under a flood of bans.
   */
  private evictOne(keep: string): void {
    const now = this.clock.now();
    let fallback: string | undefined;
    let scanned = 0;
    for (const [ip, state] of this.sources) {
      if (ip === keep) continue;
      if (++scanned > EVICTION_SCAN) break;
      if (state.bannedUntil === undefined || state.bannedUntil <= now) {
        this.sources.delete(ip);
        return;
      }
      fallback ??= ip;
    }
    if (fallback !== undefined) this.sources.delete(fallback);
  }
}
