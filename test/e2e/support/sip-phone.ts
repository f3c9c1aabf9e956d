/**
 * A scripted SIP phone over UDP for mid-call e2e tests (hold, transfer), where SIPp scenarios
 * would need three coordinated processes and tag juggling per step: it registers (MD5 digest),
 * places INVITEs that answer the PBX's 407, answers INVITEs and re-INVITEs itself (mirroring the
 * offer's direction, RFC 3264 §6.1), sends re-INVITE, REFER and BYE in a dialog, and records every
 * request it received (re-INVITEs, NOTIFYs, BYEs) for the test to assert on. No RTP is sent.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { computeHa1, computeResponse } from '../../../src/sip/registrar/digest.js';

const token = (): string => randomBytes(6).toString('hex');

export interface SipMessage {
  first: string;
  headers: Array<[string, string]>;
  body: string;
  text: string;
}

export interface Dialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  /** Where in-dialog requests go: the peer's Contact. */
  remoteTarget: string;
  cseq: number;
  ended: boolean;
}

export function header(m: SipMessage, name: string): string | undefined {
  return m.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

export function statusOf(m: SipMessage): number {
  return Number(/^SIP\/2\.0 (\d{3})/.exec(m.first)?.[1] ?? 0);
}

function parse(text: string): SipMessage {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  const [first = '', ...rest] = head.split('\r\n');
  const headers = rest.map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  });
  return { first, headers, body, text };
}

const tagOf = (v: string | undefined): string => /;tag=([^;>\s]+)/.exec(v ?? '')?.[1] ?? '';
const uriOf = (v: string | undefined): string => /<([^>]+)>/.exec(v ?? '')?.[1] ?? (v ?? '').split(';')[0]!.trim();

export class SipPhone {
  private sock!: Socket;
  private rtp!: Socket;
  /** RTP packets received on `rtpPort` (from rtpengine), so a test sees whose audio reaches whom. */
  rtpReceived = 0;
  private waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  /** Every request the server sent this phone, in order. */
  readonly received: SipMessage[] = [];
  readonly dialogs: Dialog[] = [];
  /** The status this phone answers re-INVITEs with (200 mirrors the offer’s direction; e.g. 488 to refuse one). */
  reinviteStatus = 200;

  private constructor(
    readonly user: string,
    private readonly password: string,
    readonly address: string,
    private readonly server: { host: string; port: number },
    readonly rtpPort: number,
  ) {}

  static async open(user: string, password: string, address: string, server: { host: string; port: number }, rtpPort: number): Promise<SipPhone> {
    const p = new SipPhone(user, password, address, server, rtpPort);
    p.sock = createSocket('udp4');
    p.sock.on('message', (buf) => p.onMessage(parse(buf.toString('utf8'))));
    await new Promise<void>((resolve, reject) => {
      p.sock.once('error', reject);
      p.sock.bind(0, address, () => resolve());
    });
    p.rtp = createSocket('udp4');
    p.rtp.on('message', () => void p.rtpReceived++);
    await new Promise<void>((resolve, reject) => {
      p.rtp.once('error', reject);
      p.rtp.bind(rtpPort, address, () => resolve());
    });
    return p;
  }

  get port(): number {
    return this.sock.address().port;
  }

  private get contact(): string {
    return `<sip:${this.user}@${this.address}:${this.port}>`;
  }

  close(): void {
    this.sock.close();
    this.rtp.close();
  }

  /** Send `count` PCMU packets (20 ms apart) from `rtpPort` to the address and port of `sdp`. */
  async sendRtp(sdp: string, count = 10): Promise<void> {
    const address = /c=IN IP4 ([0-9.]+)/.exec(sdp)?.[1] ?? '';
    const port = Number(/m=audio (\d+)/.exec(sdp)?.[1] ?? 0);
    const ssrc = randomBytes(4);
    for (let i = 0; i < count; i++) {
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = 0; // PCMU
      header.writeUInt16BE(i, 2);
      header.writeUInt32BE(i * 160, 4);
      ssrc.copy(header, 8);
      this.rtp.send(Buffer.concat([header, Buffer.alloc(160, 0xff)]), port, address);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  sdp(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' = 'sendrecv', version = 1): string {
    return ['v=0', `o=${this.user} 1000 ${version} IN IP4 ${this.address}`, 's=-', `c=IN IP4 ${this.address}`, 't=0 0', `m=audio ${this.rtpPort} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', `a=${direction}`, ''].join('\r\n');
  }

  async register(): Promise<number> {
    const callId = `${token()}@reg`;
    const uri = `sip:${this.server.host}`;
    const send = (cseq: number, auth?: string): Promise<SipMessage> =>
      this.request(
        [`REGISTER ${uri} SIP/2.0`, this.via(), 'Max-Forwards: 70', `From: <sip:${this.user}@${this.server.host}>;tag=${token()}`, `To: <sip:${this.user}@${this.server.host}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`, `Contact: ${this.contact}`, 'Expires: 300', ...(auth ? [`Authorization: ${auth}`] : [])],
        '',
        callId,
      );
    const challenge = await send(1);
    if (statusOf(challenge) !== 401) return statusOf(challenge);
    const www = this.pickChallenge(challenge, 'WWW-Authenticate');
    return statusOf(await send(2, this.digest(www, 'REGISTER', uri)));
  }

  /** INVITE `number` at the PBX, answer the 407, ACK the 200; the dialog, or the final status when refused. */
  async call(number: string, sdp = this.sdp(), extraHeaders: string[] = []): Promise<Dialog | number> {
    const callId = `${token()}@${this.address}`;
    const localTag = token();
    const ruri = `sip:${number}@${this.server.host}`;
    const localUri = `sip:${this.user}@${this.server.host}`;
    const invite = (cseq: number, auth?: string): Promise<SipMessage> =>
      this.request(
        [`INVITE ${ruri} SIP/2.0`, this.via(), 'Max-Forwards: 70', `From: <${localUri}>;tag=${localTag}`, `To: <${ruri}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} INVITE`, `Contact: ${this.contact}`, 'Content-Type: application/sdp', ...extraHeaders, ...(auth ? [`Proxy-Authorization: ${auth}`] : [])],
        sdp,
        callId,
        30_000,
      );
    let res = await invite(1);
    if (statusOf(res) === 407) {
      this.ackNon2xx(res, ruri);
      res = await invite(2, this.digest(this.pickChallenge(res, 'Proxy-Authenticate'), 'INVITE', ruri));
    }
    const status = statusOf(res);
    if (status !== 200) {
      this.ackNon2xx(res, ruri);
      return status;
    }
    const dialog: Dialog = { callId, localTag, remoteTag: tagOf(header(res, 'To')), localUri, remoteUri: ruri, remoteTarget: uriOf(header(res, 'Contact')), cseq: 2, ended: false };
    this.dialogs.push(dialog);
    this.sendAck(dialog, 2);
    return dialog;
  }

  /**
   * A re-INVITE in `dialog` with `sdp`; resolves with the 2xx (ACKed) or the failure. A 491 (the
   * PBX still setting the call up, RFC 3261 §14.1) is retried after a pause, as phones do — shorter
   * than a phone's 2.1–4 s, to keep tests quick.
   */
  async reinvite(dialog: Dialog, sdp: string): Promise<SipMessage> {
    for (let attempt = 1; ; attempt++) {
      const cseq = ++dialog.cseq;
      const res = await this.request([...this.inDialog(dialog, 'INVITE', cseq), `Contact: ${this.contact}`, 'Content-Type: application/sdp'], sdp, dialog.callId, 15_000);
      if (statusOf(res) === 200) this.sendAck(dialog, cseq);
      else this.ackNon2xx(res, dialog.remoteTarget);
      if (statusOf(res) !== 491 || attempt >= 5) return res;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async refer(dialog: Dialog, referTo: string): Promise<number> {
    const cseq = ++dialog.cseq;
    return statusOf(await this.request([...this.inDialog(dialog, 'REFER', cseq), `Contact: ${this.contact}`, `Refer-To: ${referTo}`, `Referred-By: <${dialog.localUri}>`], '', dialog.callId));
  }

  async bye(dialog: Dialog): Promise<number> {
    const cseq = ++dialog.cseq;
    dialog.ended = true;
    return statusOf(await this.request(this.inDialog(dialog, 'BYE', cseq), '', dialog.callId));
  }

  /** The first received request matching `pred` (already received or arriving within `ms`). */
  async waitForRequest(pred: (m: SipMessage) => boolean, ms = 15_000): Promise<SipMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`${this.user}: no matching request within ${ms} ms; got ${this.received.map((r) => r.first).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The dialog the PBX opened towards this phone (an INVITE it answered), once there is one. */
  async waitForDialog(ms = 15_000): Promise<Dialog> {
    const deadline = Date.now() + ms;
    for (;;) {
      const d = this.dialogs.find((x) => !x.ended);
      if (d) return d;
      if (Date.now() > deadline) throw new Error(`${this.user}: no call within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private inDialog(d: Dialog, method: string, cseq: number): string[] {
    return [`${method} ${d.remoteTarget} SIP/2.0`, this.via(), 'Max-Forwards: 70', `From: <${d.localUri}>;tag=${d.localTag}`, `To: <${d.remoteUri}>;tag=${d.remoteTag}`, `Call-ID: ${d.callId}`, `CSeq: ${cseq} ${method}`];
  }

  private via(): string {
    return `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK-${token()};rport`;
  }

  private sendAck(d: Dialog, cseq: number): void {
    this.send([`ACK ${d.remoteTarget} SIP/2.0`, this.via(), 'Max-Forwards: 70', `From: <${d.localUri}>;tag=${d.localTag}`, `To: <${d.remoteUri}>;tag=${d.remoteTag}`, `Call-ID: ${d.callId}`, `CSeq: ${cseq} ACK`], '');
  }

  /** RFC 3261 §17.1.1.3: the ACK of a non-2xx final answer reuses the INVITE's Via branch and To tag. */
  private ackNon2xx(res: SipMessage, ruri: string): void {
    const cseq = (header(res, 'CSeq') ?? '').split(' ')[0];
    this.send([`ACK ${ruri} SIP/2.0`, `Via: ${header(res, 'Via')}`, 'Max-Forwards: 70', `From: ${header(res, 'From')}`, `To: ${header(res, 'To')}`, `Call-ID: ${header(res, 'Call-ID')}`, `CSeq: ${cseq} ACK`], '');
  }

  private pickChallenge(res: SipMessage, name: string): string {
    const all = res.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    return all.find((c) => /algorithm=MD5\b/i.test(c)) ?? all[0] ?? '';
  }

  private digest(challenge: string, method: string, uri: string): string {
    const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const cnonce = token();
    const response = computeResponse({ algorithm: 'MD5', ha1: computeHa1('MD5', this.user, realm, this.password), nonce, method, uri, qop: 'auth', nc: '00000001', cnonce });
    return `Digest username="${this.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
  }

  private request(lines: string[], body: string, callId: string, ms = 10_000): Promise<SipMessage> {
    const cseq = lines.find((l) => l.startsWith('CSeq:'))!.slice(5).trim();
    return new Promise((resolve, reject) => {
      const waiter = {
        match: (m: SipMessage) => statusOf(m) >= 200 && header(m, 'Call-ID') === callId && header(m, 'CSeq') === cseq,
        resolve: (m: SipMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.user}: no final answer to ${lines[0]} (${cseq}) within ${ms} ms`));
      }, ms);
      this.waiters.push(waiter);
      this.send(lines, body);
    });
  }

  private send(lines: string[], body: string): void {
    const text = [...lines, 'User-Agent: e2e-sip-phone', `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
    this.sock.send(text, this.server.port, this.server.host);
  }

  private onMessage(m: SipMessage): void {
    if (m.first.startsWith('SIP/2.0')) {
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      return;
    }
    const method = m.first.split(' ')[0] ?? '';
    if (method === 'ACK') return;
    this.received.push(m);
    const callId = header(m, 'Call-ID') ?? '';
    const known = this.dialogs.find((d) => d.callId === callId && d.localTag === tagOf(header(m, 'To')));
    let toTag = tagOf(header(m, 'To'));
    let body = '';
    let status = 200;
    if (method === 'INVITE') {
      if (!known) {
        toTag = token();
        this.dialogs.push({ callId, localTag: toTag, remoteTag: tagOf(header(m, 'From')), localUri: uriOf(header(m, 'To')), remoteUri: uriOf(header(m, 'From')), remoteTarget: uriOf(header(m, 'Contact')), cseq: 100, ended: false });
        body = this.sdp();
      } else {
        known.remoteTarget = uriOf(header(m, 'Contact')) || known.remoteTarget;
        status = this.reinviteStatus;
        body = status === 200 ? this.sdp(mirror(m.body), Date.now() % 100000) : '';
      }
    } else if (method === 'BYE') {
      if (known) known.ended = true;
    }
    const to = header(m, 'To') ?? '';
    const reply = [
      `SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Failed'}`,
      ...m.headers.filter(([n]) => /^(via|from|call-id|cseq)$/i.test(n)).map(([n, v]) => `${n}: ${v}`),
      `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`,
      ...(method === 'INVITE' ? [`Contact: ${this.contact}`] : []),
      ...(body ? ['Content-Type: application/sdp'] : []),
    ];
    this.send(reply, body);
  }
}

/** The direction that answers an offer (RFC 3264 §6.1): sendonly ↔ recvonly, inactive stays, else sendrecv. */
export function mirror(offer: string): 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' {
  if (/a=sendonly/.test(offer)) return 'recvonly';
  if (/a=recvonly/.test(offer)) return 'sendonly';
  if (/a=inactive/.test(offer)) return 'inactive';
  return 'sendrecv';
}

export function directionOf(sdp: string): string {
  return /a=(sendrecv|sendonly|recvonly|inactive)/.exec(sdp)?.[1] ?? 'sendrecv';
}
