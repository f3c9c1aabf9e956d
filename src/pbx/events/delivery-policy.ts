import type { BreakerState } from '../../store/index.js';

/**
 * The retry and circuit-breaker rules of webhook delivery (issue 5 §3), pure so they are tested
 * without a network or a clock.
 */

/** Delay before retry number `retry` (1 = the first retry): 2 s, 4 s, 8 s… capped at an hour, plus up to 25 % jitter. */
export function retryDelayMs(retry: number, opts: { baseMs?: number; maxMs?: number; random?: () => number } = {}): number {
  const base = opts.baseMs ?? 2000;
  const exact = Math.min(opts.maxMs ?? 3_600_000, base * 2 ** Math.max(0, retry - 1));
  // Jitter spreads the retries of many events failing at once, so a receiver coming back is not hit by all of them in the same instant.
  return Math.round(exact * (1 + 0.25 * (opts.random ?? Math.random)()));
}

export interface Breaker {
  state: BreakerState;
  consecutiveFailures: number;
  pausedUntil: string | null;
}

export interface BreakerConfig {
  /** Consecutive failed attempts that open the breaker (10). */
  threshold: number;
  /** How long an open breaker pauses the endpoint before one probe (5 minutes). */
  pauseMs: number;
}

export const DEFAULT_BREAKER: BreakerConfig = { threshold: 10, pauseMs: 5 * 60_000 };

/**
 * May the endpoint be attempted at `now`? Closed and half-open: yes (the queue sends one delivery
 * at a time, so half-open lets exactly one probe through). Open: not before `pausedUntil`; then the
 * attempt is the probe and the breaker is half-open while it runs.
 */
export function breakerGate(b: Breaker, now: number): { allow: true; breaker: Breaker } | { allow: false; until: number } {
  if (b.state !== 'open') return { allow: true, breaker: b };
  const until = b.pausedUntil === null ? now : Date.parse(b.pausedUntil);
  if (until > now) return { allow: false, until };
  return { allow: true, breaker: { state: 'half_open', consecutiveFailures: b.consecutiveFailures, pausedUntil: null } };
}

/** The breaker after an attempt: success closes it; a failure counts, and opens it at the threshold or when the probe failed. */
export function breakerAfter(b: Breaker, ok: boolean, now: number, cfg: BreakerConfig): Breaker {
  if (ok) return { state: 'closed', consecutiveFailures: 0, pausedUntil: null };
  const failures = b.consecutiveFailures + 1;
  if (b.state === 'half_open' || failures >= cfg.threshold) return { state: 'open', consecutiveFailures: failures, pausedUntil: new Date(now + cfg.pauseMs).toISOString() };
  return { state: 'closed', consecutiveFailures: failures, pausedUntil: null };
}
