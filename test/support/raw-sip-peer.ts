/**
 * A tiny SIP peer for tests of the engine core: a UDP socket or a TCP connection on 127.0.0.1 that
 * sends raw text and records everything it receives, plus builders for the few messages a test
 * peer needs (INVITE, ACK, CANCEL, in-dialog requests, responses). Parsing here is independent of
 * the engine's parser on purpose, so that an engine parser bug cannot hide itself in a test.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

/** A received SIP message, reduced to what tests look at. */
export interface RawMessage {
  text: string;
  startLine: string;
  status?: number;
  method?: string;
  uri?: string;
  /** Header lines in order, names lower-cased (compact forms expanded), values trimmed. */
  headers: Array<{ name: string; rawName: string; value: string }>;
  body: string;
  /** Where the datagram/segment came from. */
  source: { address: string; port: number };
  /** Arrival time (ms, wall clock). */
  at: number;
}

const compact: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via',
};

/** Parse one complete message; undefined when it is not SIP-like. */
export function parseRaw(text: string, source: { address: string; port: number }): RawMessage | undefined {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: RawMessage['headers'] = [];
  for (const line of lines) {
    const last = headers[headers.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim();
    const lower = rawName.toLowerCase();
    headers.push({ name: compact[lower] ?? lower, rawName, value: line.slice(colon + 1).trim() });
  }
  const msg: RawMessage = { text, startLine, headers, body: end < 0 ? '' : text.slice(end + 4), source, at: Date.now() };
  const status = /^SIP\/2\.0 (\d{3})(?: |$)/.exec(startLine);
  if (status) msg.status = Number(status[1]);
  else {
    const req = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(startLine);
    if (!req) return undefined;
    msg.method = req[1];
    msg.uri = req[2];
  }
  return msg;
}

/** First value of a header (lower-case long name). */
export function hdr(m: RawMessage, name: string): string | undefined {
  return m.headers.find((h) => h.name === name)?.value;
}

/** Every value of a header, comma lists split (fine for Via, Route, Record-Route, Supported). */
export function hdrAll(m: RawMessage, name: string): string[] {
  return m.headers.filter((h) => h.name === name).flatMap((h) => splitList(h.value));
}

/** `tag` parameter of a From/To value. */
export function tagOf(value: string | undefined): string | undefined {
  return /;\s*tag=([^;>\s]+)/i.exec(value ?? '')?.[1];
}

/** The URI inside a name-addr (`<…>`) or the bare URI before any parameter. */
export function uriIn(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return /<([^>]*)>/.exec(value)?.[1] ?? value.split(';')[0]?.trim();
}

/** CSeq as number and method. */
export function cseqOf(m: RawMessage): { seq: number; method: string } {
  const r = /^\s*(\d+)\s+(\S+)/.exec(hdr(m, 'cseq') ?? '');
  return { seq: Number(r?.[1] ?? NaN), method: r?.[2] ?? '' };
}

function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '<') depth++;
    if (!quoted && ch === '>') depth--;
    if (ch === ',' && !quoted && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export const token = (bytes = 6): string => randomBytes(bytes).toString('hex');
export const branch = (): string => `z9hG4bK${token(8)}`;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves once `cond` holds (polled); rejects after `ms`. */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A minimal SDP offer/answer body. */
export function sdp(port = 40000, version = 1): string {
  return ['v=0', `o=- 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=sendrecv', ''].join('\r\n');
}

/**
 * One peer socket. `received` keeps every message; {@link waitFor} finds one matching a predicate;
 * {@link autoAnswer} lets a test answer requests as they arrive.
 */
export class RawSipPeer {
  readonly received: RawMessage[] = [];
  readonly garbage: string[] = [];
  private answer: ((m: RawMessage) => string | undefined) | undefined;

  /** Connections a listening TCP peer accepted, most recent last. */
  private readonly accepted: net.Socket[] = [];

  private constructor(
    readonly protocol: 'udp' | 'tcp',
    readonly port: number,
    private readonly udp: dgram.Socket | undefined,
    private readonly tcp: net.Socket | undefined,
    /** The engine port this peer talks to (TCP: the connection's remote port). */
    readonly enginePort: number,
    private readonly server?: net.Server,
  ) {}

  /** A UDP peer on an ephemeral port that sends to `enginePort`. */
  static async udp(enginePort: number): Promise<RawSipPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve());
    });
    const peer = new RawSipPeer('udp', socket.address().port, socket, undefined, enginePort);
    socket.on('message', (data, rinfo) => peer.deliver(data.toString('utf8'), { address: rinfo.address, port: rinfo.port }));
    socket.on('error', () => undefined);
    return peer;
  }

  /** A TCP connection to the engine's SIP port; messages are framed by Content-Length (RFC 3261 §18.3). */
  static async tcp(enginePort: number): Promise<RawSipPeer> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: enginePort });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
    });
    socket.setNoDelay(true);
    const peer = new RawSipPeer('tcp', socket.localPort ?? 0, undefined, socket, enginePort);
    peer.attach(socket);
    return peer;
  }

  /**
   * A TCP peer that listens on an ephemeral port (a phone's Contact) and answers on the
   * connection each request came in on; {@link send} writes on the most recent connection.
   */
  static async tcpListen(enginePort: number): Promise<RawSipPeer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const peer = new RawSipPeer('tcp', (server.address() as net.AddressInfo).port, undefined, undefined, enginePort, server);
    server.on('connection', (socket) => {
      peer.accepted.push(socket);
      peer.attach(socket);
    });
    return peer;
  }

  /** How many connections a listening peer has accepted. */
  get connections(): number {
    return this.accepted.length;
  }

  /** `SIP/2.0/UDP 127.0.0.1:port;branch=…;rport` for a request this peer sends. */
  via(br = branch()): string {
    return `SIP/2.0/${this.protocol.toUpperCase()} 127.0.0.1:${this.port};branch=${br};rport`;
  }

  /** This peer's Contact URI (with `;transport=tcp` on TCP). */
  contactUri(user = 'peer'): string {
    return `sip:${user}@127.0.0.1:${this.port}${this.protocol === 'tcp' ? ';transport=tcp' : ''}`;
  }

  /** Send text to the engine (UDP: to `port`, default the engine port this peer was opened for). */
  send(text: string, port = this.enginePort): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.tcp ?? this.accepted[this.accepted.length - 1];
      if (this.protocol === 'tcp') {
        if (!stream) return reject(new Error('no TCP connection to send on'));
        stream.write(text, (err) => (err ? reject(err) : resolve()));
      } else this.udp!.send(Buffer.from(text), port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Answer requests as they arrive: return the response text, or undefined to stay silent. */
  autoAnswer(fn: ((m: RawMessage) => string | undefined) | undefined): void {
    this.answer = fn;
  }

  async waitFor(pred: (m: RawMessage) => boolean, ms = 2000, what = 'a message'): Promise<RawMessage> {
    let found: RawMessage | undefined;
    await until(() => (found = this.received.find(pred)) !== undefined, ms, `${what} at peer ${this.port}`);
    return found!;
  }

  /** A response with this status to a request with this CSeq method. */
  waitForResponse(status: number, method: string, ms = 2000): Promise<RawMessage> {
    return this.waitFor((m) => m.status === status && cseqOf(m).method === method, ms, `${status} to ${method}`);
  }

  waitForRequest(method: string, ms = 2000): Promise<RawMessage> {
    return this.waitFor((m) => m.method === method, ms, `a ${method}`);
  }

  count(pred: (m: RawMessage) => boolean): number {
    return this.received.filter(pred).length;
  }

  close(): void {
    try {
      this.udp?.close();
    } catch {
      // already closed
    }
    this.tcp?.destroy();
    for (const socket of this.accepted) socket.destroy();
    this.server?.close();
  }

  private deliver(text: string, source: { address: string; port: number }, answerOn?: net.Socket): void {
    const m = parseRaw(text, source);
    if (!m) {
      this.garbage.push(text);
      return;
    }
    this.received.push(m);
    if (m.method && this.answer) {
      const reply = this.answer(m);
      if (reply === undefined) return;
      if (answerOn) answerOn.write(reply);
      else void this.send(reply, source.port).catch(() => undefined);
    }
  }

  /** Frame a stream by Content-Length (RFC 3261 §18.3), skipping keepalive CRLFs. */
  private attach(socket: net.Socket): void {
    let buf = '';
    const source = { address: '127.0.0.1', port: socket.remotePort ?? 0 };
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        buf = buf.replace(/^(\r\n)+/, '');
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(buf.slice(0, end));
        const total = end + 4 + Number(cl?.[1] ?? 0);
        if (Buffer.byteLength(buf) < total) return;
        // Bodies here are ASCII, so characters and bytes agree.
        const text = buf.slice(0, total);
        buf = buf.slice(total);
        this.deliver(text, source, socket);
      }
    });
  }
}

export interface MessageParts {
  headers?: string[];
  body?: string;
  contentType?: string;
}

function assemble(startLine: string, headers: string[], parts: MessageParts): string {
  const body = parts.body ?? '';
  const lines = [startLine, ...headers, ...(parts.headers ?? [])];
  if (body) lines.push(`Content-Type: ${parts.contentType ?? 'application/sdp'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}

/**
 * A response to a request the peer received: Via, From, To, Call-ID, CSeq copied (RFC 3261
 * §8.2.6.2), a To tag added unless the request already has one.
 */
export function reply(req: RawMessage, status: number, reason: string, opts: MessageParts & { toTag?: string; contact?: string } = {}): string {
  const copied = req.headers.filter((h) => ['via', 'from', 'call-id', 'cseq', 'record-route'].includes(h.name) && !(h.name === 'record-route' && status < 101));
  const to = hdr(req, 'to') ?? '';
  const toValue = tagOf(to) || status === 100 ? to : `${to};tag=${opts.toTag ?? token(4)}`;
  const headers = [...copied.map((h) => `${h.rawName}: ${h.value}`), `To: ${toValue}`];
  if (opts.contact) headers.push(`Contact: <${opts.contact}>`);
  return assemble(`SIP/2.0 ${status} ${reason}`, headers, opts);
}

/**
 * A call placed by a peer towards the engine (the peer is the UAC): builds the INVITE and every
 * request of the call with consistent Call-ID, tags, CSeq and branches.
 */
export class PeerCall {
  readonly callId = `${token(8)}@peer`;
  readonly fromTag = token(4);
  toTag: string | undefined;
  cseq = 1;
  inviteCSeq = 1;
  inviteBranch = '';
  private readonly requestUri: string;

  constructor(
    private readonly peer: RawSipPeer,
    opts: { user?: string } = {},
  ) {
    this.requestUri = `sip:${opts.user ?? 'service'}@127.0.0.1:${peer.enginePort}${peer.protocol === 'tcp' ? ';transport=tcp' : ''}`;
  }

  get from(): string {
    return `<sip:caller@127.0.0.1:${this.peer.port}>;tag=${this.fromTag}`;
  }

  get to(): string {
    return `<${this.requestUri}>${this.toTag ? `;tag=${this.toTag}` : ''}`;
  }

  private common(method: string, seq: number, br: string): string[] {
    return [`Via: ${this.peer.via(br)}`, 'Max-Forwards: 70', `From: ${this.from}`, `To: ${this.to}`, `Call-ID: ${this.callId}`, `CSeq: ${seq} ${method}`];
  }

  /** The initial INVITE (or, once the To tag is known, a re-INVITE): new branch, next CSeq. */
  invite(parts: MessageParts & { contact?: string } = {}): string {
    const seq = this.toTag ? ++this.cseq : this.cseq;
    this.inviteCSeq = seq;
    this.inviteBranch = branch();
    const headers = [...this.common('INVITE', seq, this.inviteBranch), `Contact: <${parts.contact ?? this.peer.contactUri()}>`];
    return assemble(`INVITE ${this.requestUri} SIP/2.0`, headers, { body: sdp(), ...parts });
  }

  /** Remember the To tag of a response that established the dialog. */
  established(res: RawMessage): this {
    this.toTag = tagOf(hdr(res, 'to'));
    return this;
  }

  /** ACK for a 2xx (RFC 3261 §13.2.2.4): its own branch, the INVITE's CSeq number. */
  ack(parts: MessageParts = {}): string {
    return assemble(`ACK ${this.requestUri} SIP/2.0`, this.common('ACK', this.inviteCSeq, branch()), parts);
  }

  /** ACK for a non-2xx final (RFC 3261 §17.1.1.3): the INVITE's branch and the response's To. */
  ackNon2xx(res: RawMessage): string {
    const headers = this.common('ACK', this.inviteCSeq, this.inviteBranch).map((h) => (h.startsWith('To:') ? `To: ${hdr(res, 'to') ?? ''}` : h));
    return assemble(`ACK ${this.requestUri} SIP/2.0`, headers, {});
  }

  /** CANCEL of the INVITE (RFC 3261 §9.1): same branch, To without tag, CSeq number of the INVITE. */
  cancel(): string {
    const headers = [`Via: ${this.peer.via(this.inviteBranch)}`, 'Max-Forwards: 70', `From: ${this.from}`, `To: <${this.requestUri}>`, `Call-ID: ${this.callId}`, `CSeq: ${this.inviteCSeq} CANCEL`];
    return assemble(`CANCEL ${this.requestUri} SIP/2.0`, headers, {});
  }

  /** Any other request of the call with the next CSeq (BYE, INFO, UPDATE, PRACK…). */
  request(method: string, parts: MessageParts = {}): string {
    return assemble(`${method} ${this.requestUri} SIP/2.0`, this.common(method, ++this.cseq, branch()), parts);
  }
}
