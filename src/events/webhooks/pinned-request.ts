import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { WebhookTarget } from './webhook-target.js';

/** The most of a receiver's answer the delivery log keeps (issue 5: response excerpt). */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface PinnedRequest {
  headers: Record<string, string>;
  body: Buffer | string;
  timeoutMs: number;
  /** Test seam for https to a local server with a self-signed certificate; never set in production. */
  ca?: string | Buffer;
}

/**
 * What came of one attempt. `ok` only for a 2xx: a 3xx is a failure (redirects are not followed,
 * they could point anywhere, including inside the network), as is any other status, a timeout or
 * a connection error. `excerpt` is at most {@link RESPONSE_EXCERPT_BYTES} bytes of the answer.
 */
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  excerpt: string | null;
  error: string | null;
  durationMs: number;
}

/** What a receiver's status means for an attempt: ok only for a 2xx; a 3xx is not followed (see {@link AttemptResult}). */
export function statusOutcome(statusCode: number): { ok: boolean; error: string | null } {
  const ok = statusCode >= 200 && statusCode < 300;
  return { ok, error: ok ? null : statusCode >= 300 && statusCode < 400 ? `redirect (${statusCode}) not followed` : `HTTP ${statusCode}` };
}

/**
 * A lookup that answers every name with the checked address, so the socket connects to exactly
 * what the SSRF guard approved while the URL's host still goes into the Host header and TLS SNI
 * (and the certificate is checked against the name). Handles `all: true`, which Node 20 asks for
 * when it races address families (autoSelectFamily).
 */
export function pinnedLookup(target: WebhookTarget): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/** Reads at most `limit` bytes of a response, then stops reading (the rest is not our business). */
function excerptOf(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        res.destroy();
        finish();
      }
    });
    res.on('end', finish);
    res.on('error', finish);
    res.on('close', finish);
  });
}

/**
 * POSTs `body` to a checked {@link WebhookTarget}: connects to its pinned address only, never
 * follows redirects, gives up after `timeoutMs` for the whole exchange (connect, send, headers,
 * excerpt), and never throws — every outcome is an {@link AttemptResult} for the delivery log.
 */
export function postPinned(target: WebhookTarget, req: PinnedRequest): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const { url } = target;
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
  const options = {
    method: 'POST',
    protocol: url.protocol,
    hostname: target.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: { ...req.headers, 'content-length': String(body.length) },
    lookup: pinnedLookup(target),
    // SNI is for names only (RFC 6066 §3); an IP-literal URL gets none.
    ...(url.protocol === 'https:' && { servername: isIP(target.hostname) ? '' : target.hostname, ...(req.ca && { ca: req.ca }) }),
    agent: false as const,
  };
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: elapsed() });
    };
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
      const statusCode = res.statusCode ?? 0;
      void excerptOf(res, RESPONSE_EXCERPT_BYTES).then((excerpt) => {
        done({ ...statusOutcome(statusCode), statusCode, excerpt });
      });
    });
    const timer = setTimeout(() => {
      request.destroy();
      done({ ok: false, statusCode: null, excerpt: null, error: `timed out after ${req.timeoutMs} ms` });
    }, req.timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, statusCode: null, excerpt: null, error: err.code ?? err.message }));
    request.end(body);
  });
}
