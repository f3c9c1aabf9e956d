import { isIP } from 'node:net';
import { buildConnector, errors, Pool } from 'undici';
import { pinnedLookup, RESPONSE_EXCERPT_BYTES, type AttemptResult, type PinnedRequest } from './pinned-request.js';
import type { WebhookTarget } from './webhook-target.js';

/**
 * One endpoint's kept-alive connection for the delivery threads, on undici (Node's own HTTP
 * client): at 2,000 events/s to 10 endpoints it delivered ~30 % more than node:http's Agent on
 * the same 2 cores (bench:events, webhooks only: 868–951 → 1,200 events/s per endpoint).
 *
 * Pinned like {@link postPinned}: every connection it opens goes to the checked address (the
 * connector's lookup answers with it), while the URL's host stays the Host header, the TLS name
 * (SNI) and what the certificate is checked against. One connection, one request at a time (no
 * pipelining: only an endpoint's head is ever attempted). It never follows redirects.
 */
export function openPinnedPool(target: WebhookTarget, opts: { ca?: string; connectTimeoutMs?: number; onConnect?: () => void } = {}): Pool {
  const tls = target.url.protocol === 'https:';
  const connector = buildConnector({
    lookup: pinnedLookup(target),
    // SNI is for names only (RFC 6066 §3); an IP-literal URL gets none.
    ...(tls && !isIP(target.hostname) && { servername: target.hostname }),
    ...(opts.ca !== undefined && { ca: opts.ca }),
    ...(opts.connectTimeoutMs !== undefined && { timeout: opts.connectTimeoutMs }),
  } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (options, callback) => {
    opts.onConnect?.();
    return connector(options, callback);
  };
  // An idle connection is closed after 4 s (below Node's default server keepAliveTimeout of 5 s, so we close first).
  return new Pool(target.url.origin, { connections: 1, pipelining: 1, connect, keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000 });
}

/** What undici calls a connection the receiver closed under a request that had no answer yet. */
const CLOSED_UNDER_US = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * POSTs over the endpoint's pool; the same outcomes as {@link postPinned}: ok only for a 2xx, a 3xx
 * is a failure (not followed), each phase bounded by `timeoutMs` (connecting, waiting for the
 * answer's head, any pause in its body — undici's own timers: an AbortSignal.timeout per request
 * cost a timer each, 1,200 → 951 events/s per endpoint on the bench), at most
 * {@link RESPONSE_EXCERPT_BYTES} of the answer kept, and never a throw. A kept-alive connection the
 * receiver closed while idle fails the next request before any answer; that is not the receiver's
 * failure, so the attempt is made once more (on a fresh connection).
 */
export async function postPooled(pool: Pool, target: WebhookTarget, req: Omit<PinnedRequest, 'ca'>): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
  const request = () =>
    pool.request({
      path: `${target.url.pathname}${target.url.search}`,
      method: 'POST',
      headers: { ...req.headers, 'content-length': String(body.length) },
      body,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
  try {
    let res;
    try {
      res = await request();
    } catch (err) {
      if (!CLOSED_UNDER_US.has((err as { code?: string }).code ?? '')) throw err;
      res = await request();
    }
    const excerpt = await excerptOf(res.body);
    const statusCode = res.statusCode;
    const ok = statusCode >= 200 && statusCode < 300;
    const error = ok ? null : statusCode >= 300 && statusCode < 400 ? `redirect (${statusCode}) not followed` : `HTTP ${statusCode}`;
    return { ok, statusCode, excerpt, error, durationMs: elapsed() };
  } catch (err) {
    const timedOut = err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError;
    const error = timedOut ? `timed out after ${req.timeoutMs} ms` : ((err as { code?: string }).code ?? (err as Error).message);
    return { ok: false, statusCode: null, excerpt: null, error, durationMs: elapsed() };
  }
}

/** At most the excerpt's size of the answer; the rest is not read (the connection then closes). */
async function excerptOf(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_EXCERPT_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
}
