import type { Context, MiddlewareHandler } from 'hono';
import type { Clock } from '../shared/clock.js';
import type { ApiEnv } from './env.js';
import { ErrorCodes, errorResponse } from './errors.js';

/** Bucket shape: `capacity` requests in a burst, refilled at `refillPerSecond`. */
export interface RateLimitOptions {
  capacity: number;
  refillPerSecond: number;
  clock: Clock;
  /** Which bucket a request draws from; default the authenticated principal, else the socket address. */
  keyOf?: (c: Context<ApiEnv>) => string;
  /** Buckets idle this long are forgotten (memory bound); default 10 minutes. */
  idleMs?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * In-memory token bucket per API key (one process serves the API, so no shared store is needed).
 * Every response carries `X-RateLimit-Limit/Remaining/Reset` (Reset = seconds until the bucket is
 * full) so integrators can pace themselves; an empty bucket answers 429 with `Retry-After` and
 * `retry_after` (seconds until one token) in the error envelope.
 */
export function rateLimit(opts: RateLimitOptions): MiddlewareHandler<ApiEnv> {
  const buckets = new Map<string, Bucket>();
  const perMs = opts.refillPerSecond / 1000;
  const idleMs = opts.idleMs ?? 10 * 60 * 1000;
  const keyOf = opts.keyOf ?? defaultKey;
  let lastSweep = opts.clock.now();

  return async (c, next) => {
    const now = opts.clock.now();
    if (now - lastSweep > idleMs) {
      for (const [k, b] of buckets) if (now - b.updatedAt > idleMs) buckets.delete(k);
      lastSweep = now;
    }
    const key = keyOf(c);
    const bucket = buckets.get(key) ?? { tokens: opts.capacity, updatedAt: now };
    bucket.tokens = Math.min(opts.capacity, bucket.tokens + (now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    buckets.set(key, bucket);

    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const resetSeconds = Math.ceil((opts.capacity - bucket.tokens) / opts.refillPerSecond);
    const headers = {
      'X-RateLimit-Limit': String(opts.capacity),
      'X-RateLimit-Remaining': String(Math.floor(bucket.tokens)),
      'X-RateLimit-Reset': String(resetSeconds),
    };
    if (!allowed) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / opts.refillPerSecond));
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      c.header('Retry-After', String(retryAfter));
      return errorResponse(c, 429, ErrorCodes.RATE_LIMITED, 'rate limit exceeded', { retry_after: retryAfter });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}

function defaultKey(c: Context<ApiEnv>): string {
  const principal = c.get('principalId');
  if (principal) return `p:${principal}`;
  // @hono/node-server exposes the socket as env.incoming; X-Forwarded-For is not trusted (spoofable).
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return `ip:${env?.incoming?.socket?.remoteAddress ?? 'unknown'}`;
}
