import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { clientIp } from './audit.js';
import type { ApiEnv } from './env.js';
import type { RequestLogEntry, RequestLogSink } from './ports.js';
import { routeTemplate } from './route-template.js';

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
  // Webhook signing secrets (a request body or a view logged by mistake must not carry one).
  'secret',
  '*.secret',
  '*.*.secret',
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
        const route = routeTemplate(c);
        const ip = clientIp(c);
        const errorCode = status >= 400 ? await envelopeCode(c.res) : undefined;
        // `c.req.path` has no query string: `?api_key=`, tokens and passwords never reach the log.
        const entry: RequestLogEntry = {
          request_id: rid,
          time: new Date().toISOString(),
          method: c.req.method,
          path: c.req.path,
          status,
          duration_ms: durationMs,
          ...(c.get('tenantId') ? { tenant_id: c.get('tenantId') } : {}),
          ...(c.get('principalId') ? { principal_id: c.get('principalId') } : {}),
          ...(c.req.header('user-agent') ? { user_agent: c.req.header('user-agent') } : {}),
          ...(route ? { route } : {}),
          ...(ip ? { ip } : {}),
          ...(errorCode ? { error_code: errorCode } : {}),
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

/** The `error.code` of an error envelope response, read from a copy so the client still gets the body. */
async function envelopeCode(res: Response): Promise<string | undefined> {
  if (!res.headers.get('content-type')?.includes('json')) return undefined;
  try {
    const parsed = (await res.clone().json()) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}
