import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { RESPONSE_EXCERPT_BYTES, statusOutcome, type AttemptResult } from './pinned-request.js';
import { HttpAnswer } from './http-answer.js';
import type { WebhookTarget } from './webhook-target.js';

/** An idle connection is closed after 4 s (below Node's default server keepAliveTimeout of 5 s, so we close first). */
const IDLE_MS = 4000;

/** Where plain-HTTP answers are read (onread): one per thread, as every connection's answer is parsed before the next read. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** How a connection the receiver closed under a request looks, besides a plain end. */
const CLOSED_UNDER_US = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The head of a webhook POST: request line, Host, the header `lines` (`name: value\r\n` each, checked
 * for line breaks by whoever made them: {@link headerLines}, or {@link BatchSigner.lines}), the
 * body's length.
 */
export function requestHead(target: WebhookTarget, lines: string, bodyLength: number): string {
  return `POST ${target.url.pathname}${target.url.search} HTTP/1.1\r\nhost: ${target.url.host}\r\n${lines}content-length: ${bodyLength}\r\n\r\n`;
}

interface Pending {
  head: string;
  body: Buffer;
  resolve: (r: AttemptResult) => void;
  started: number;
  /** Made once more on a fresh connection already (see {@link KeptConnection}). */
  retried: boolean;
}

/**
 * One endpoint's kept-alive HTTP/1.1 connection for the delivery threads: one request at a time
 * (requests queue; only an endpoint's head is ever attempted), pinned to the checked address —
 * the socket goes to `target.address` while the URL's host is the Host header, the TLS name (SNI)
 * and what the certificate is checked against. The same outcomes as {@link postPinned}: ok only
 * for a 2xx, a 3xx is a failure (never followed), at most {@link RESPONSE_EXCERPT_BYTES} of the
 * answer kept (the rest is not read: the connection is closed instead), never a throw.
 *
 * Timeouts, each `timeoutMs`: connecting, waiting for the answer's head after the request went,
 * and any pause in its body. A kept-alive connection the receiver closed while idle fails the next
 * request before any answer; that is not the receiver's failure, so a request closed under us
 * before any byte of its answer is made once more, on a fresh connection.
 *
 * Why not undici (used here before): one request costs a webhook delivery thread about half the
 * CPU — the same loopback receivers, 5 connections, signing included: 53 µs a request on undici's
 * dispatch API, 27–30 µs on a socket with this parser. At 20,000 deliveries a second on 2 cores
 * that is ~45 % of a core, and the machine's contention is what sets every endpoint's round trip.
 */
export class KeptConnection {
  private socket: Socket | null = null;
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private answer: HttpAnswer | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly idleTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly target: WebhookTarget,
    private readonly timeoutMs: number,
    /** `idleMs`: how long an unused connection stays open (4 s; tests shorten it). */
    private readonly opts: { ca?: string; onConnect?: () => void; idleMs?: number } = {},
  ) {
    // Made once and re-armed with refresh() (cheaper than a timer per request); a firing with nothing to do is ignored.
    // Never clearTimeout'ed before close(): a cleared timer cannot be refreshed.
    this.timer = setTimeout(() => this.timedOut(), timeoutMs).unref();
    this.idleTimer = setTimeout(() => this.idle(), opts.idleMs ?? IDLE_MS).unref();
  }

  /** POSTs `body` with a head from {@link requestHead}; resolves with the attempt's outcome. */
  send(head: string, body: Buffer): Promise<AttemptResult> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(failure(performance.now(), 'connection closed'));
      this.queue.push({ head, body, resolve, started: performance.now(), retried: false });
      if (this.current === null) this.next();
    });
  }

  /** Closes the connection; queued requests fail. */
  close(): void {
    this.closed = true;
    this.dropSocket();
    clearTimeout(this.idleTimer);
    clearTimeout(this.timer);
    const waiting = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.current = null;
    this.queue.length = 0;
    for (const p of waiting) p.resolve(failure(p.started, 'connection closed'));
  }

  private next(): void {
    const p = this.queue.shift();
    if (p === undefined) return;
    this.current = p;
    this.answer = new HttpAnswer(RESPONSE_EXCERPT_BYTES);
    const socket = this.socket ?? this.open();
    // One write (head and body in one buffer): one syscall, one segment for a small event.
    const bytes = Buffer.allocUnsafe(p.head.length + p.body.length);
    bytes.write(p.head, 0, 'latin1');
    p.body.copy(bytes, p.head.length);
    this.timer.refresh();
    socket.write(bytes);
  }

  private open(): Socket {
    const { target } = this;
    const port = Number(target.url.port) || (target.url.protocol === 'https:' ? 443 : 80);
    const socket: Socket =
      target.url.protocol === 'https:'
        ? tlsConnect({
            host: target.address,
            port,
            // SNI is for names only (RFC 6066 §3); an IP-literal URL gets none.
            ...(!isIP(target.hostname) && { servername: target.hostname }),
            // The certificate must name the URL's host, not the address the socket went to.
            checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(target.hostname, cert),
            ALPNProtocols: ['http/1.1'],
            ...(this.opts.ca !== undefined && { ca: this.opts.ca }),
          })
        : netConnect({
            host: target.address,
            port,
            family: target.family,
            // Answers are read into one reused buffer, straight to the parser (no stream machinery per
            // answer, on the path from an answer to the next request); HttpAnswer copies what it keeps.
            onread: {
              buffer: READ_BUFFER,
              callback: (n: number, buf: Uint8Array): boolean => {
                this.onData(socket, Buffer.from(buf.buffer, buf.byteOffset, n));
                return true;
              },
            },
          });
    this.opts.onConnect?.();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    if (target.url.protocol === 'https:') socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('end', () => this.onClose(socket, null));
    socket.on('error', (err: NodeJS.ErrnoException) => this.onClose(socket, err.code ?? err.message));
    socket.on('close', () => this.onClose(socket, null));
    this.socket = socket;
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    const p = this.current;
    const answer = this.answer;
    // Bytes nobody asked for: the connection is out of step, not to be reused.
    if (p === null || answer === null) return this.dropSocket();
    const state = answer.feed(chunk);
    // The head must come within the timeout of the request; after it, the timeout bounds each pause.
    if (state === 'more') {
      if (answer.inBody) this.timer.refresh();
      return;
    }
    if (state === 'malformed') return this.finish(failure(p.started, `malformed answer: ${answer.problem}`), false);
    // 'excerpt': the rest of a long answer is not read; the connection goes instead.
    this.finish(answered(p.started, answer), state === 'complete' && answer.reusable);
  }

  /** The socket ended, failed or closed: the request on it (if any) is answered by how far it got. */
  private onClose(socket: Socket, error: string | null): void {
    if (socket !== this.socket) return;
    this.socket = null;
    socket.destroy();
    const p = this.current;
    const answer = this.answer;
    if (p === null || answer === null) return;
    // Closed before any byte of the answer: "closed under us".
    if (!answer.started) {
      if (!p.retried && (error === null || CLOSED_UNDER_US.has(error))) {
        p.retried = true;
        this.queue.unshift(p);
        this.current = null;
        return this.next();
      }
      return this.finish(failure(p.started, error ?? 'closed before an answer'), false);
    }
    // An answer framed by the close (no length given) ends here; any other is cut short.
    if (answer.endOfStream()) return this.finish(answered(p.started, answer), false);
    this.finish(failure(p.started, error ?? 'answer cut short'), false);
  }

  private timedOut(): void {
    const p = this.current;
    if (p === null) return;
    this.finish(failure(p.started, `timed out after ${this.timeoutMs} ms`), false);
  }

  private idle(): void {
    if (this.current === null) this.dropSocket();
  }

  private finish(result: AttemptResult, keep: boolean): void {
    const p = this.current;
    this.current = null;
    this.answer = null;
    if (keep) this.idleTimer.refresh();
    else this.dropSocket();
    if (this.queue.length > 0) this.next();
    p?.resolve(result);
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
  }
}

function failure(started: number, error: string): AttemptResult {
  return { ok: false, statusCode: null, excerpt: null, error, durationMs: Math.round(performance.now() - started) };
}

function answered(started: number, answer: HttpAnswer): AttemptResult {
  const { ok, error } = statusOutcome(answer.statusCode);
  return { ok, statusCode: answer.statusCode, excerpt: answer.excerpt(), error, durationMs: Math.round(performance.now() - started) };
}
