import { isIP } from 'node:net';
import { buildConnector, Pool, type Dispatcher } from 'undici';
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
/** undici's per-phase timeouts: connecting, waiting for the answer's head, a pause in its body. */
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** One attempt over an endpoint's pool: the path (with query), headers (flat name/value list or object), the exact body bytes. */
export interface PooledRequest {
  path: string;
  headers: string[] | Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

/**
 * POSTs over the endpoint's pool; the same outcomes as {@link postPinned}: ok only for a 2xx, a 3xx
 * is a failure (not followed), each phase bounded by `timeoutMs` (connecting, waiting for the
 * answer's head, any pause in its body — undici's own timers: an AbortSignal.timeout per request
 * cost a timer each, 1,200 → 951 events/s per endpoint on the bench), at most
 * {@link RESPONSE_EXCERPT_BYTES} of the answer kept, and never a throw. A kept-alive connection the
 * receiver closed while idle fails the next request before any answer; that is not the receiver's
 * failure, so the attempt is made once more (on a fresh connection).
 */
export function postPooled(pool: Pool, target: WebhookTarget, req: Omit<PinnedRequest, 'ca'>): Promise<AttemptResult> {
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
  return sendPooled(pool, { path: `${target.url.pathname}${target.url.search}`, headers: req.headers, body, timeoutMs: req.timeoutMs });
}

/**
 * {@link postPooled} for the delivery threads, which make the path and body once per batch. On
 * undici's dispatch API with the small handler below rather than `pool.request()`: no Readable
 * body stream, async iterator and promise chain per attempt: ~20 % less CPU per attempt (one
 * thread, 10 loopback receivers, shared host: 82–101 → 63–79 µs).
 */
export function sendPooled(pool: Pool, req: PooledRequest): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const attempt = new Attempt(pool, req, resolve);
    pool.dispatch(attempt.opts, attempt);
  });
}

/** undici's dispatch handler for one attempt: keeps the status and the first bytes of the answer, settles once. */
class Attempt implements Dispatcher.DispatchHandler {
  readonly opts: Dispatcher.DispatchOptions;
  private readonly started = performance.now();
  private statusCode = 0;
  private chunks: Buffer[] = [];
  private size = 0;
  private retried = false;
  private settled = false;

  constructor(private readonly pool: Pool, private readonly req: PooledRequest, private readonly resolve: (r: AttemptResult) => void) {
    this.opts = { path: req.path, method: 'POST', headers: req.headers, body: req.body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs };
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    // A 1xx comes before the final answer: only the final one's status and body count.
    this.statusCode = statusCode;
    this.chunks = [];
    this.size = 0;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    // The rest of the answer is not read: the connection is closed instead.
    if (this.size >= RESPONSE_EXCERPT_BYTES) {
      this.answered();
      controller.abort(new Error('excerpt complete'));
    }
  }

  onResponseEnd(): void {
    this.answered();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    const code = (err as { code?: string }).code;
    if (this.statusCode === 0 && !this.retried && code !== undefined && CLOSED_UNDER_US.has(code)) {
      this.retried = true;
      this.pool.dispatch(this.opts, this);
      return;
    }
    this.settled = true;
    const error = code !== undefined && TIMEOUTS.has(code) ? `timed out after ${this.req.timeoutMs} ms` : (code ?? err.message);
    this.resolve({ ok: false, statusCode: null, excerpt: null, error, durationMs: Math.round(performance.now() - this.started) });
  }

  private answered(): void {
    if (this.settled) return;
    this.settled = true;
    const statusCode = this.statusCode;
    const ok = statusCode >= 200 && statusCode < 300;
    const error = ok ? null : statusCode >= 300 && statusCode < 400 ? `redirect (${statusCode}) not followed` : `HTTP ${statusCode}`;
    const excerpt = this.chunks.length === 0 ? '' : Buffer.concat(this.chunks, this.size).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
    this.resolve({ ok, statusCode, excerpt, error, durationMs: Math.round(performance.now() - this.started) });
  }
}
