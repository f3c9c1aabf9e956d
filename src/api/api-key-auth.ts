import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { systemClock, type Clock } from '../shared/clock.js';
import { findUsableApiKey, hashApiKey, nowIso, touchApiKeyLastUsed, type ApiKey, type Db } from '../store/index.js';
import type { ApiEnv, PrincipalType } from './env.js';
import { ErrorCodes, errorResponse } from './errors.js';
import { scopeFor, type Scope } from './route-registry.js';

/** How often at most a key's `last_used_at` is written, so authenticated reads stay cheap. */
export const LAST_USED_THROTTLE_MS = 60_000;

const KEY_SHAPE = /^sk_live_[0-9A-Za-z]+$/;

/**
 * How long a key found in the database is trusted without asking again. The lookup (hash, query,
 * row mapping) was about a tenth of a 100-row list request (npm run bench:api). Changes made through
 * this process's API take effect at once (every mutating request empties the cache); this bound is
 * for changes made elsewhere (another process, a script on the database file).
 */
export const KEY_CACHE_TTL_MS = 2000;

/** Upper bound on cached keys; beyond it the cache starts over (a tenant has a handful of keys). */
const KEY_CACHE_MAX = 10_000;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Usable at `now`: not expired, and not revoked (a revocation in the future is a rotation's grace period). */
function usableAt(key: ApiKey, now: string): boolean {
  return (key.revokedAt === null || key.revokedAt > now) && (key.expiresAt === null || key.expiresAt > now);
}

/** The key from `X-API-Key` or `Authorization: Bearer …`; undefined if neither is present. */
function presentedKey(header: (name: string) => string | undefined): string | undefined {
  const direct = header('X-API-Key')?.trim();
  if (direct) return direct;
  const auth = header('Authorization');
  const match = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return match?.[1];
}

/** A caller resolved from a bearer token that is not an API key (a user session). */
export interface BearerPrincipal {
  type: PrincipalType;
  id: string;
  tenantId: string;
  scopes: readonly string[];
  sessionId?: string;
}

export interface ApiKeyAuthOptions {
  db: Db;
  clock?: Clock;
  throttleMs?: number;
  /** See {@link KEY_CACHE_TTL_MS}; 0 looks every key up on every request. */
  cacheTtlMs?: number;
  /**
   * Resolves `Authorization: Bearer <token>` values that are not `sk_live_` keys (session tokens);
   * undefined → 401 like any unknown credential.
   */
  resolveBearer?: (token: string) => Promise<BearerPrincipal | undefined>;
}

/**
 * API-key authentication for `/api/v1/*`, built per app because the scope a request needs comes
 * from that app's route registry (`forApp(app)` is what `createApi` calls). Every failure to
 * authenticate answers the same 401 so callers cannot probe which keys exist or were revoked; a
 * valid key without the route's scope (and without `admin`) gets 403. Sets `tenantId` and
 * `principalId` (the key id) for rate limiting, idempotency and handlers. The key is only hashed,
 * never logged.
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): { forApp(app: object): MiddlewareHandler<ApiEnv> } {
  const clock = options.clock ?? systemClock;
  const throttleMs = options.throttleMs ?? LAST_USED_THROTTLE_MS;
  const lastTouched = new Map<string, number>();
  const cache = keyCache(options.db, clock, options.cacheTtlMs ?? KEY_CACHE_TTL_MS);
  return {
    forApp(app) {
      const authenticate: MiddlewareHandler<ApiEnv> = async (c, next) => {
        const scope = requiredScope(app, c);
        if (scope === 'public') return next();
        const key = presentedKey((n) => c.req.header(n));
        if (key && !KEY_SHAPE.test(key) && options.resolveBearer) {
          const principal = await options.resolveBearer(key);
          if (!principal) return errorResponse(c, 401, ErrorCodes.UNAUTHORIZED, 'missing, unknown or expired credentials');
          if (scope && !hasScope(principal.scopes, scope)) {
            return errorResponse(c, 403, ErrorCodes.FORBIDDEN, `this session lacks the scope ${scope}`);
          }
          c.set('tenantId', principal.tenantId);
          c.set('principalId', principal.id);
          c.set('principalType', principal.type);
          c.set('scopes', principal.scopes);
          if (principal.sessionId) c.set('sessionId', principal.sessionId);
          return next();
        }
        const apiKey = key && KEY_SHAPE.test(key) ? await cache.find(key) : undefined;
        if (!apiKey) return errorResponse(c, 401, ErrorCodes.UNAUTHORIZED, 'missing, unknown, expired or revoked API key');
        if (scope && !hasScope(apiKey.scopes, scope)) {
          return errorResponse(c, 403, ErrorCodes.FORBIDDEN, `this API key lacks the scope ${scope}`);
        }
        c.set('tenantId', apiKey.tenantId);
        c.set('principalId', apiKey.id);
        c.set('principalType', 'api_key');
        c.set('scopes', apiKey.scopes);
        const now = clock.now();
        const last = lastTouched.get(apiKey.id);
        if (last === undefined || now - last >= throttleMs) {
          lastTouched.set(apiKey.id, now);
          try {
            await touchApiKeyLastUsed(options.db, apiKey.id);
          } catch (err) {
            c.get('log').warn({ err, apiKeyId: apiKey.id }, 'could not record API key use');
          }
        }
        return next();
      };
      return async (c, next) => {
        if (!MUTATING.has(c.req.method)) return authenticate(c, next);
        // Any write may revoke, rotate, re-scope or delete a key (or a user or tenant that owns
        // keys): forget every cached key once it is done — before the answer goes out, so the
        // caller's next request already sees the change — whatever the route and its outcome.
        try {
          return await authenticate(c, next);
        } finally {
          cache.clear();
        }
      };
    },
  };
}

/**
 * Usable keys by hash (the plain key is not kept), each trusted for `ttlMs`; expiry and a scheduled
 * revocation are checked on every use, so they take effect to the millisecond. Unknown keys are not
 * cached: a new key works at once, and guessing cannot fill memory. A lookup that started before a
 * {@link clear} does not store its (possibly stale) answer.
 */
function keyCache(db: Db, clock: Clock, ttlMs: number) {
  const entries = new Map<string, { key: ApiKey; at: number }>();
  let generation = 0;
  return {
    async find(plain: string): Promise<ApiKey | undefined> {
      if (ttlMs <= 0) return findUsableApiKey(db, plain);
      const hash = hashApiKey(plain);
      const now = clock.now();
      const hit = entries.get(hash);
      if (hit && now - hit.at < ttlMs) return usableAt(hit.key, nowIso()) ? hit.key : undefined;
      const started = generation;
      const found = await findUsableApiKey(db, plain);
      if (!found) entries.delete(hash);
      else if (started === generation) {
        if (entries.size >= KEY_CACHE_MAX) entries.clear();
        entries.set(hash, { key: found, at: now });
      }
      return found;
    },
    clear(): void {
      generation++;
      entries.clear();
    },
  };
}

/**
 * The check the middleware makes on a presented `sk_live_` key — its shape, then a usable (not
 * revoked, not expired) key in the store — for callers outside Hono, such as the `/ws` upgrade.
 */
export async function verifyApiKey(db: Db, plain: string | undefined): Promise<ApiKey | undefined> {
  if (!plain || !KEY_SHAPE.test(plain)) return undefined;
  return findUsableApiKey(db, plain);
}

/** `admin` implies every scope. */
export function hasScope(scopes: readonly string[], scope: Scope): boolean {
  return scopes.includes(scope) || scopes.includes('admin');
}

/**
 * The scope of the route this request matched; undefined for an unregistered path, which still
 * needs a valid key (then answers 404) so unauthenticated callers cannot map the API.
 */
function requiredScope(app: object, c: Parameters<MiddlewareHandler<ApiEnv>>[0]): Scope | undefined {
  const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
  for (const route of matchedRoutes(c)) {
    if (route.method === 'ALL') continue;
    const scope = scopeFor(app, route.method === method ? method : route.method, route.path);
    if (scope) return scope;
  }
  return undefined;
}
