/**
 * Minimal SIP peers for wire tests: a UDP socket and a TCP connection on 127.0.0.1 that send raw
 * bytes and collect what comes back. The parsing and framing here are deliberately independent of
 * the engine's own parser (src/engine/message) so that a parser bug cannot hide itself in a test.
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** A received SIP message, reduced to what tests look at. */
export interface PeerMessage {
  raw: Buffer;
  startLine: string;
  /** Set for responses. */
  status?: number;
  /** Set for requests. */
  method?: string;
  /** Lower-case long header names → values in order (header lines and comma lists are not merged). */
  headers: Map<string, string[]>;
  body: Buffer;
  at: number;
}

const compact: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via',
};

/** Parse one complete message (header section + whatever follows as body). Undefined when not SIP-like. */
export function parsePeerMessage(raw: Buffer): PeerMessage | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last && last.length > 0) {
      last[last.length - 1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim().toLowerCase();
    const name = compact[rawName] ?? rawName;
    last = headers.get(name) ?? [];
    last.push(line.slice(colon + 1).trim());
    headers.set(name, last);
  }
  const msg: PeerMessage = { raw, startLine, headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4), at: Date.now() };
  const status = /^SIP\/2\.0 (\d{3}) /.exec(startLine + ' ');
  if (status?.[1]) msg.status = Number(status[1]);
  else {
    const req = /^(\S+) \S+ SIP\/2\.0$/.exec(startLine);
    if (!req?.[1]) return undefined;
    msg.method = req[1];
  }
  return msg;
}

/** First value of a header (long name, lower case). */
export function header(m: PeerMessage, name: string): string | undefined {
  return m.headers.get(name)?.[0];
}

/** The CSeq method of a message, e.g. INVITE for a response to an INVITE. */
export function cseqMethod(m: PeerMessage): string | undefined {
  return /^\s*\d+\s+(\S+)/.exec(header(m, 'cseq') ?? '')?.[1];
}

/** Resolves once `cond` holds, polling; rejects after `ms`. */
export async function until(cond: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Shared by both peers: a log of received messages and waiting on it. */
abstract class Peer {
  readonly received: PeerMessage[] = [];
  /** Bytes that did not parse as SIP (counted, so a garbled reply is not silently ignored). */
  readonly garbage: Buffer[] = [];
  protected onMessage?: (m: PeerMessage) => void;

  /** Called for every message as it arrives (e.g. to ACK a final response at once). */
  onEach(fn: (m: PeerMessage) => void): void {
    this.onMessage = fn;
  }

  protected deliver(raw: Buffer): void {
    const m = parsePeerMessage(raw);
    if (!m) {
      this.garbage.push(raw);
      return;
    }
    this.received.push(m);
    this.onMessage?.(m);
  }

  async waitFor(pred: (m: PeerMessage) => boolean, ms: number, what = 'a message'): Promise<PeerMessage> {
    let found: PeerMessage | undefined;
    await until(() => (found = this.received.find(pred)) !== undefined, ms, what);
    return found!;
  }

  responses(): PeerMessage[] {
    return this.received.filter((m) => m.status !== undefined);
  }
}

/** A UDP socket on 127.0.0.1 with an ephemeral port. */
export class UdpPeer extends Peer {
  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    super();
    socket.on('message', (msg) => this.deliver(msg));
  }

  static async open(): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve());
    });
    return new UdpPeer(socket, socket.address().port);
  }

  send(data: Buffer | string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/**
 * A TCP connection to 127.0.0.1. Incoming bytes are framed by Content-Length (RFC 3261 §18.3);
 * stray CRLFs between messages (keepalive pongs) are skipped.
 */
export class TcpPeer extends Peer {
  private buf = Buffer.alloc(0);
  closedAt: number | undefined;
  readonly localPort: number;

  private constructor(private readonly socket: net.Socket) {
    super();
    this.localPort = socket.localPort ?? 0;
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedAt = Date.now();
    });
  }

  static connect(port: number): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new TcpPeer(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  send(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof data === 'string' ? Buffer.from(data) : data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      while (this.buf[0] === 0x0d || this.buf[0] === 0x0a) this.buf = this.buf.subarray(1);
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
      const total = end + 4 + Number(cl?.[1] ?? 0);
      if (this.buf.length < total) return;
      this.deliver(Buffer.from(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
  }
}

/** The top Via value of a message (the first of a comma list). */
export function topVia(m: PeerMessage): string | undefined {
  return header(m, 'via')?.split(',')[0]?.trim();
}

/**
 * The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): part of the INVITE transaction, so it
 * carries the INVITE's Request-URI and top Via (branch included), and the To tag of the response.
 */
export function ackNon2xx(requestUri: string, res: PeerMessage): string {
  return request('ACK', requestUri, res, topVia(res) ?? '', cseqNumber(res));
}

/** The ACK for a 2xx (RFC 3261 §13.2.2.4): a transaction of its own, sent to the remote target. */
export function ack2xx(res: PeerMessage, via: string): string {
  return request('ACK', contactUri(res) ?? 'sip:127.0.0.1', res, via, cseqNumber(res));
}

/** A BYE ending the dialog a 2xx created (RFC 3261 §15.1.1). */
export function byeFor(res: PeerMessage, via: string): string {
  return request('BYE', contactUri(res) ?? 'sip:127.0.0.1', res, via, cseqNumber(res) + 1);
}

function cseqNumber(m: PeerMessage): number {
  return Number(/^\s*(\d+)/.exec(header(m, 'cseq') ?? '')?.[1] ?? '1');
}

function contactUri(m: PeerMessage): string | undefined {
  const c = header(m, 'contact');
  if (!c) return undefined;
  return /<([^>]*)>/.exec(c)?.[1] ?? c.split(';')[0]?.trim();
}

function request(method: string, ruri: string, res: PeerMessage, via: string, seq: number): string {
  return [
    `${method} ${ruri} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: ${header(res, 'from') ?? ''}`,
    `To: ${header(res, 'to') ?? ''}`,
    `Call-ID: ${header(res, 'call-id') ?? ''}`,
    `CSeq: ${seq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
