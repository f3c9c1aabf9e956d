/**
 * A small SIP UDP client for end-to-end registrar tests, where SIPp cannot go: SHA-256 digest
 * (SIPp 3.6 computes MD5 only), a fixed local address and port kept across a server restart, and
 * answering the registrar's OPTIONS qualify. Digest arithmetic comes from the registrar's own
 * digest.ts (RFC 7616 formulas, tested against its test vectors).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { computeHa1, computeResponse, type DigestAlgorithm } from '../../../src/sip/registrar/digest.js';

export interface SipReply {
  status: number;
  text: string;
  /** Every header line `Name: value`, split so folded challenges are one entry each. */
  challenges: string[];
}

export interface RegisterOptions {
  user: string;
  password: string;
  domain: string;
  algorithm?: DigestAlgorithm;
  expires?: number;
  /** Give no answer to the challenge (only the first REGISTER is sent). */
  challengeOnly?: boolean;
  /** Per reply wait; undefined reply = no answer (a banned source). */
  timeoutMs?: number;
}

const token = (): string => randomBytes(6).toString('hex');

export class SipUdpClient {
  private sock!: Socket;
  private waiters: Array<{ callId: string; resolve: (r: SipReply) => void }> = [];
  private cseq = 1;
  readonly callId = `${token()}@e2e`;
  /** Requests the server sent us (OPTIONS qualify), Request-URI and text. */
  readonly requests: Array<{ method: string; uri: string; text: string }> = [];

  private constructor(
    readonly address: string,
    private readonly server: { host: string; port: number },
  ) {}

  /** Bind to `address:port` (0 = any port) and answer any request with 200. */
  static async open(address: string, server: { host: string; port: number }, port = 0): Promise<SipUdpClient> {
    const c = new SipUdpClient(address, server);
    c.sock = createSocket('udp4');
    c.sock.on('message', (buf) => c.onMessage(buf.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      c.sock.once('error', reject);
      c.sock.bind(port, address, () => resolve());
    });
    return c;
  }

  get port(): number {
    return this.sock.address().port;
  }

  get contact(): string {
    return `sip:phone@${this.address}:${this.port}`;
  }

  close(): void {
    this.sock.close();
  }

  /** REGISTER, answer the 401 with digest credentials; the replies (undefined: no answer). */
  async register(o: RegisterOptions): Promise<{ challenge?: SipReply; final?: SipReply }> {
    const uri = `sip:${o.domain}`;
    const challenge = await this.request(this.registerText(o, uri), o.timeoutMs);
    if (!challenge || challenge.status !== 401 || o.challengeOnly) return { ...(challenge ? { challenge } : {}) };
    const algorithm = o.algorithm ?? 'SHA-256';
    const www = challenge.challenges.find((c) => c.includes(`algorithm=${algorithm}`)) ?? '';
    const nonce = /nonce="([^"]+)"/.exec(www)?.[1] ?? '';
    const realm = /realm="([^"]+)"/.exec(www)?.[1] ?? '';
    const cnonce = token();
    const response = computeResponse({ algorithm, ha1: computeHa1(algorithm, o.user, realm, o.password), nonce, method: 'REGISTER', uri, qop: 'auth', nc: '00000001', cnonce });
    const auth = `Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="${cnonce}"`;
    const final = await this.request(this.registerText(o, uri, auth), o.timeoutMs);
    return { challenge, ...(final ? { final } : {}) };
  }

  private registerText(o: RegisterOptions, uri: string, authorization?: string): string {
    return [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK-${token()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${o.user}@${o.domain}>;tag=${token()}`,
      `To: <sip:${o.user}@${o.domain}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq++} REGISTER`,
      `Contact: <${this.contact}>`,
      `Expires: ${o.expires ?? 300}`,
      'User-Agent: e2e-udp-client',
      ...(authorization ? [`Authorization: ${authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  private request(text: string, timeoutMs = 5000): Promise<SipReply | undefined> {
    return new Promise((resolve) => {
      const waiter = { callId: this.callId, resolve: (r: SipReply) => {
        clearTimeout(timer);
        resolve(r);
      } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(waiter);
      this.sock.send(text, this.server.port, this.server.host);
    });
  }

  private onMessage(text: string): void {
    const head = text.split('\r\n\r\n')[0] ?? '';
    const lines = head.split('\r\n');
    const status = /^SIP\/2\.0 (\d{3})/.exec(lines[0] ?? '');
    if (!status) return this.answer(text, lines);
    const code = Number(status[1]);
    if (code < 200) return;
    const challenges = lines
      .filter((l) => /^WWW-Authenticate:/i.test(l))
      .flatMap((l) => l.replace(/^WWW-Authenticate:\s*/i, '').split(/,\s*(?=Digest )/));
    const waiter = this.waiters.shift();
    waiter?.resolve({ status: code, text, challenges });
  }

  /** Answer a request from the server (OPTIONS qualify) with 200, echoing what RFC 3261 §8.2.6 needs. */
  private answer(text: string, lines: string[]): void {
    const [method = '', uri = ''] = (lines[0] ?? '').split(' ');
    this.requests.push({ method, uri, text });
    const copy = lines.filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
    const reply = ['SIP/2.0 200 OK', ...copy.map((l) => (/^To:/i.test(l) && !/;tag=/.test(l) ? `${l};tag=${token()}` : l)), 'Content-Length: 0', '', ''].join('\r\n');
    const via = copy.find((l) => /^Via:/i.test(l)) ?? '';
    const m = /SIP\/2\.0\/UDP ([^:;\s]+):(\d+)/i.exec(via);
    const rport = /;rport=(\d+)/.exec(via)?.[1];
    const received = /;received=([^;\s]+)/.exec(via)?.[1];
    this.sock.send(reply, Number(rport ?? m?.[2] ?? 5060), received ?? m?.[1] ?? this.server.host);
  }
}
