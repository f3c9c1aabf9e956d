import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './env.js';
import { ErrorCodes, errorResponse } from './errors.js';
import type { IdempotencyStore } from './ports.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * JSON fields whose values are secrets shown once (a new API key, a generated password). A
 * response that carries one is marked `Cache-Control: no-store` by its handler; its stored copy
 * has these values replaced, because idempotency records sit in the database and a dump of it must
 * hold no credential in clear text. A replay then shows `[redacted]`: the secret was delivered once.
 */
const SECRET_FIELDS = new Set(['key', 'password', 'sip_password', 'token', 'secret']);
/** Any `*_token`, `*_password` or `*_secret` field (access_token, refresh_token, reset_token…) is a secret too. */
const isSecretField = (name: string): boolean => SECRET_FIELDS.has(name) || /_(token|password|secret)$/.test(name);
export const REDACTED = '[redacted]';

function redactSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecretFields);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, isSecretField(k) && typeof v === 'string' ? REDACTED : redactSecretFields(v)]),
  );
}

/** The body to store for replay: as sent, unless the response said it must not be kept. */
function storableBody(text: string, cacheControl: string | null): string {
  if (!cacheControl || !/\bno-store\b/i.test(cacheControl)) return text;
  try {
    return JSON.stringify(redactSecretFields(JSON.parse(text)));
  } catch {
    return '';
  }
}

/** Header set on a replayed response so clients and logs can tell it was not executed again. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * `Idempotency-Key` for mutating routes, so a client may retry a POST after a timeout without
 * creating twice. Keys are scoped by tenant so tenants cannot see each other's responses (auth
 * must run before this middleware to set `tenantId`). The first completed response (status, content type, exact body) is stored and
 * replayed for a repeat with the same method, path and body; the same key with a different request
 * is a client bug → 422 IDEMPOTENCY_KEY_REUSED; a repeat while the first is still running → 409
 * CONFLICT. 5xx and thrown requests release the key so the retry runs for real.
 */
export function idempotency(store: IdempotencyStore): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const key = c.req.header('Idempotency-Key');
    if (key === undefined || !MUTATING.has(c.req.method)) return next();
    if (!KEY_PATTERN.test(key)) {
      return errorResponse(c, 400, ErrorCodes.VALIDATION_FAILED, 'invalid Idempotency-Key', {
        details: [{ field: 'Idempotency-Key', issue: '1–255 visible ASCII characters' }],
      });
    }
    const scope = c.get('tenantId') ?? '-';
    const body = await c.req.text();
    const hash = createHash('sha256')
      .update(`${c.req.method}\n${c.req.path}\n`)
      .update(body)
      .digest('hex');

    const claim = await store.claim(scope, key, hash);
    switch (claim.state) {
      case 'mismatch':
        return errorResponse(
          c,
          422,
          ErrorCodes.IDEMPOTENCY_KEY_REUSED,
          'this Idempotency-Key was used with a different request',
        );
      case 'in_progress':
        return errorResponse(c, 409, ErrorCodes.CONFLICT, 'a request with this Idempotency-Key is still in progress');
      case 'completed': {
        const headers = new Headers(c.res.headers);
        if (claim.response.contentType) headers.set('Content-Type', claim.response.contentType);
        headers.set(REPLAYED_HEADER, 'true');
        return new Response(claim.response.body, { status: claim.response.status, headers });
      }
      case 'claimed':
        break;
    }

    let completed = false;
    try {
      await next();
      if (c.res.status < 500 && !c.error) {
        const text = await c.res.clone().text();
        await store.complete(scope, key, {
          status: c.res.status,
          contentType: c.res.headers.get('Content-Type'),
          body: storableBody(text, c.res.headers.get('Cache-Control')),
        });
        completed = true;
      }
    } finally {
      if (!completed) await store.release(scope, key);
    }
  };
}
