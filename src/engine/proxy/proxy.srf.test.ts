/**
 * The proxy end to end: a real EngineServer on 127.0.0.1 (UDP, port 0), the real unmodified
 * drachtio-srf app calling `srf.proxyRequest`, and two raw UDP sockets standing in for the UAC and
 * the UAS (drachtio-protocol §7(d)).
 */
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineServer } from '../server.js';
import type { Logger } from '../core/ports.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = any;
const require = createRequire(import.meta.url);
const Srf = require('drachtio-srf') as Loose;

interface Msg {
  text: string;
  first: string;
  status?: number;
  method?: string;
  headers: Array<[string, string]>;
  from: { address: string; port: number };
}

function parse(text: string, from: { address: string; port: number }): Msg {
  const [head = ''] = text.split('\r\n\r\n');
  const [first = '', ...lines] = head.split('\r\n');
  const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
  const m: Msg = { text, first, headers, from };
  const st = /^SIP\/2\.0 (\d{3})/.exec(first);
  if (st) m.status = Number(st[1]);
  else m.method = first.split(' ')[0] ?? '';
  return m;
}
const hdr = (m: Msg, name: string): string | undefined => m.headers.find(([n]) => n === name)?.[1];
const hdrs = (m: Msg, name: string): string[] => m.headers.filter(([n]) => n === name).map(([, v]) => v);

/** A UDP peer on 127.0.0.1 that records what it receives and can wait for a message. */
class Peer {
  readonly got: Msg[] = [];
  private waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  private constructor(private readonly sock: dgram.Socket, readonly port: number) {}

  static async open(onMessage?: (m: Msg, peer: Peer) => void): Promise<Peer> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const peer = new Peer(sock, sock.address().port);
    sock.on('message', (buf, rinfo) => {
      const m = parse(buf.toString('utf8'), { address: rinfo.address, port: rinfo.port });
      peer.got.push(m);
      onMessage?.(m, peer);
      for (const w of [...peer.waiters]) {
        if (w.pred(m)) {
          peer.waiters.splice(peer.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    return peer;
  }

  send(text: string, port: number): void {
    this.sock.send(Buffer.from(text.replace(/\r?\n/g, '\r\n')), port, '127.0.0.1');
  }

  wait(pred: (m: Msg) => boolean, what: string, ms = 3000): Promise<Msg> {
    const seen = this.got.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  close(): void {
    this.sock.close();
  }
}

/** A response to `req` as a UAS writes it: Vias, From, To (+tag), Call-ID, CSeq copied. */
function reply(req: Msg, status: number, reason: string, extra = '', toTag = 'uas1'): string {
  const copy = req.headers.filter(([n]) => ['via', 'from', 'call-id', 'cseq'].includes(n)).map(([n, v]) => `${n}: ${v}`);
  const to = hdr(req, 'to') ?? '';
  return [`SIP/2.0 ${status} ${reason}`, ...copy, `To: ${/;tag=/.test(to) || status === 100 ? to : `${to};tag=${toTag}`}`, ...(extra ? [extra] : []), 'Content-Length: 0', '', ''].join('\r\n');
}

const warnings: string[] = [];
const log: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`),
  error: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`),
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) {
    try {
      await f();
    } catch {
      // srf.disconnect() throws when its socket is already gone
    }
  }
});

async function setup(uasBehaviour: (m: Msg, peer: Peer) => void) {
  const engine = new EngineServer({
    listen: [{ protocol: 'udp', bindAddress: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', localHost: '127.0.0.1' }],
    admin: { host: '127.0.0.1', port: 0, secret: 'cymru' },
    core: { cdrs: false },
  }, log);
  const addrs = await engine.start();
  cleanups.push(() => engine.stop());
  const sipPort = addrs.sip[0]!.local.port;
  const uas = await Peer.open(uasBehaviour);
  const uac = await Peer.open();
  cleanups.push(() => uas.close(), () => uac.close());
  const srf = new Srf();
  srf.on('error', () => undefined);
  cleanups.push(() => srf.disconnect());
  const results: Loose[] = [];
  srf.invite((req: Loose) => {
    srf.proxyRequest(req, [`sip:127.0.0.1:${uas.port}`], { remainInDialog: true }).then((r: Loose) => results.push(r), (e: unknown) => results.push({ error: e }));
  });
  await new Promise<void>((resolve, reject) => {
    srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    srf.connect({ host: '127.0.0.1', port: addrs.adminPort, secret: 'cymru', reconnect: { maxAttempts: 1 } });
  });
  return { engine, sipPort, uas, uac, results };
}

function inviteText(sipPort: number, uacPort: number, callId: string): string {
  return `INVITE sip:svc@127.0.0.1:${sipPort} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-${callId}-1;rport
Max-Forwards: 70
From: <sip:alice@127.0.0.1:${uacPort}>;tag=uac1
To: <sip:svc@127.0.0.1:${sipPort}>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:${uacPort}>
Content-Length: 0

`;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('proxyRequest through the engine with a real drachtio-srf app', () => {
  it('relays INVITE/180/200 with our Record-Route, then ACK and BYE statelessly along the Route', async () => {
    const { sipPort, uas, uac, results } = await setup((m, peer) => {
      if (m.method === 'INVITE') {
        peer.send(reply(m, 180, 'Ringing'), m.from.port);
        const rr = hdrs(m, 'record-route').map((v) => `Record-Route: ${v}`).join('\r\n');
        peer.send(reply(m, 200, 'OK', `Contact: <sip:bob@127.0.0.1:${peer.port}>${rr ? `\r\n${rr}` : ''}`), m.from.port);
      } else if (m.method === 'BYE') peer.send(reply(m, 200, 'OK'), m.from.port);
    });
    uac.send(inviteText(sipPort, uac.port, 'proxy-call-1'), sipPort);

    const ok = await uac.wait((m) => m.status === 200, '200 at the UAC');
    const ringing = await uac.wait((m) => m.status === 180, '180 at the UAC');
    expect(hdrs(ringing, 'via')).toHaveLength(1);
    expect(hdrs(ok, 'via')).toHaveLength(1);
    expect(hdrs(ok, 'record-route')).toEqual([`<sip:127.0.0.1:${sipPort};lr>`]);
    expect(hdr(ok, 'contact')).toBe(`<sip:bob@127.0.0.1:${uas.port}>`);

    const inv = await uas.wait((m) => m.method === 'INVITE', 'INVITE at the UAS');
    expect(inv.first).toBe(`INVITE sip:127.0.0.1:${uas.port} SIP/2.0`); // R-URI pointed at us: replaced by the target
    expect(hdrs(inv, 'via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${sipPort};branch=z9hG4bK`));
    expect(hdr(inv, 'max-forwards')).toBe('69');

    await until(() => results.length === 1, 'proxyRequest to resolve');
    expect(results[0]).toMatchObject({ connected: true, finalStatus: 200 });
    expect(results[0].responses[0]).toMatchObject({ address: '127.0.0.1', port: uas.port });

    const toTagged = hdr(ok, 'to');
    const inDialog = (method: string, cseq: string, branch: string): string => `${method} sip:bob@127.0.0.1:${uas.port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=${branch};rport
Max-Forwards: 70
Route: <sip:127.0.0.1:${sipPort};lr>
From: <sip:alice@127.0.0.1:${uac.port}>;tag=uac1
To: ${toTagged}
Call-ID: proxy-call-1
CSeq: ${cseq}
Content-Length: 0

`;
    uac.send(inDialog('ACK', '1 ACK', 'z9hG4bK-ack'), sipPort);
    const ack = await uas.wait((m) => m.method === 'ACK', 'ACK at the UAS');
    expect(hdrs(ack, 'route')).toEqual([]);
    expect(hdrs(ack, 'via')).toHaveLength(2);
    expect(hdr(ack, 'max-forwards')).toBe('69');

    uac.send(inDialog('BYE', '2 BYE', 'z9hG4bK-bye'), sipPort);
    const byeOk = await uac.wait((m) => m.status === 200 && /BYE/.test(hdr(m, 'cseq') ?? ''), '200 to BYE at the UAC');
    expect(hdrs(byeOk, 'via')).toEqual([`SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-bye;rport=${uac.port};received=127.0.0.1`]);
    expect(warnings).toEqual([]);
  });

  it('an upstream CANCEL gets 200, 487 goes upstream, the branch is CANCELled and srf hears 487', async () => {
    const { sipPort, uas, uac, results } = await setup((m, peer) => {
      if (m.method === 'INVITE') peer.send(reply(m, 180, 'Ringing'), m.from.port);
      else if (m.method === 'CANCEL') {
        peer.send(reply(m, 200, 'OK'), m.from.port);
        const inv = peer.got.find((x) => x.method === 'INVITE');
        if (inv) peer.send(reply(inv, 487, 'Request Terminated'), m.from.port);
      }
    });
    uac.send(inviteText(sipPort, uac.port, 'proxy-call-2'), sipPort);
    await uac.wait((m) => m.status === 180, '180 at the UAC');
    uac.send(`CANCEL sip:svc@127.0.0.1:${sipPort} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-proxy-call-2-1;rport
Max-Forwards: 70
From: <sip:alice@127.0.0.1:${uac.port}>;tag=uac1
To: <sip:svc@127.0.0.1:${sipPort}>
Call-ID: proxy-call-2
CSeq: 1 CANCEL
Content-Length: 0

`, sipPort);
    await uac.wait((m) => m.status === 200 && /CANCEL/.test(hdr(m, 'cseq') ?? ''), '200 to CANCEL');
    await uac.wait((m) => m.status === 487, '487 at the UAC');
    await uas.wait((m) => m.method === 'CANCEL', 'CANCEL at the UAS');
    await uas.wait((m) => m.method === 'ACK', 'ACK for the 487 at the UAS');
    await until(() => results.length === 1, 'proxyRequest to resolve');
    expect(results[0]).toMatchObject({ connected: false, finalStatus: 487 });
    expect(warnings).toEqual([]);
  });
});
