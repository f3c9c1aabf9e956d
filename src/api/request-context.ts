import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { ApiEnv } from './env.js';
import type { RequestLogSink } from './ports.js';

/** Header names whose values are credentials; never logged. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie']);

/** Redaction for the per-request child logger, on top of the root logger's own paths. */
export const REQUEST_LOG_REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'password',
  '*.password',
  '*.*.password',
  'sip_password',
  '*.sip_password',
];

/** Copies headers with credential values replaced, so they can be logged safely. */
export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value;
  });
  return out;
}

/**
 * `X-Request-ID`: the client's (if well-formed) or a fresh UUID, set on the context and echoed on the
 * response, so one id ties a client report to our logs.
 */
export function requestIdMiddleware(): MiddlewareHandler<ApiEnv> {
  return requestId({ headerName: 'X-Request-ID', limitLength: 128 });
}

/**
 * Gives each request a child logger bound to its request id (handlers log through `c.get('log')`),
 * logs one line per request with redacted headers, and writes an entry to the request log sink.
 */
export function requestLogMiddleware(opts: {
  logger: Logger;
  clock: Clock;
  sink?: RequestLogSink;
}): MiddlewareHandler<ApiEnv> {
  // Built once: a child with its own `redact` compiles a redactor, which per request cost about as
  // much as writing the log line; children of this one inherit it for the price of their bindings.
  const redacting = opts.logger.child({}, { redact: { paths: REQUEST_LOG_REDACT, censor: '[redacted]' } });
  return async (c, next) => {
    const rid = c.get('requestId');
    const log = redacting.child({ requestId: rid });
    c.set('log', log);
    const started = opts.clock.now();
    try {
      await next();
    } finally {
      const status = c.res.status;
      const durationMs = Math.round((opts.clock.now() - started) * 1000) / 1000;
      const req = { method: c.req.method, path: c.req.path, headers: redactHeaders(c.req.raw.headers) };
      log.info({ req, status, durationMs }, 'request');
      if (opts.sink) {
        const entry = {
          request_id: rid,
          time: new Date().toISOString(),
          method: c.req.method,
          path: c.req.path,
          status,
          duration_ms: durationMs,
          ...(c.get('tenantId') ? { tenant_id: c.get('tenantId') } : {}),
          ...(c.get('principalId') ? { principal_id: c.get('principalId') } : {}),
          ...(c.req.header('user-agent') ? { user_agent: c.req.header('user-agent') } : {}),
        };
        try {
          await opts.sink.record(entry);
        } catch (err) {
          log.warn({ err }, 'request log sink failed');
        }
      }
    }
  };
}
