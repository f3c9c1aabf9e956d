/**
 * RFC 4475 on the wire (reliability-anchors §6 R1, R3): each of the 49 torture messages is sent,
 * byte for byte, from a socket on 127.0.0.1 to a real EngineServer with a real drachtio-srf app
 * (registrar + UAS, test/support/registrar-uas-app.ts) behind it, over UDP and over TCP, and the
 * responses that come back are counted against `expected.json`.
 *
 * Every case gets a fresh engine and app. The corpus reuses branches, sent-bys and Call-IDs across
 * files (cparam01/cparam02, escnull/regescrt, …): sent to one engine within 32 s, later files
 * would rightly be absorbed as retransmissions of earlier ones (RFC 3261 §17.2.3), which says
 * nothing about their own verdicts. The last block then sends the whole corpus to one engine and
 * checks that it still answers.
 *
 * 'handle' verdicts are pinned to what this app answers (HANDLED below), so a change shows up.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRfc4475, type TortureCase } from '../fixtures/rfc4475.js';
import { startRegistrarUasApp, type Binding, type RegistrarUasApp } from '../support/registrar-uas-app.js';
import {
  ack2xx,
  ackNon2xx,
  byeFor,
  cseqMethod,
  parsePeerMessage,
  sleep,
  TcpPeer,
  UdpPeer,
  until,
  type PeerMessage,
} from '../support/sip-peer.js';
import { startTestEngine, type TestEngine } from '../support/test-engine.js';

const cases = loadRfc4475();

/**
 * What the app (or the engine in front of it) answers to the messages RFC 4475 only asks to be
 * processed normally: OPTIONS → 200; INVITEs with SDP and a Contact → 200 (dialog, then our ACK
 * and BYE); MESSAGE with a multipart body → 200. wsinv carries a To tag, so it is an in-dialog
 * request for a dialog that does not exist: the engine answers 481 (RFC 3261 §12.2.2). inv2543
 * has no Contact (RFC 2543 allowed that), so the UAS declines it with 486.
 */
const HANDLED: Record<string, number> = {
  'wsinv.dat': 481,
  'esc01.dat': 200,
  'lwsdisp.dat': 200,
  'longreq.dat': 200,
  'semiuri.dat': 200,
  'transports.dat': 200,
  'mpart01.dat': 200,
  'baddate.dat': 200,
  'inv2543.dat': 486,
};

/** Long enough for a missed ACK to show: Timer G/2xx retransmissions start at T1 = 500 ms. */
const SETTLE_MS = 700;
/** 'drop': no output at all within this window. */
const SILENCE_MS = 500;
/** The stream slowloris limit for these tests (engine default is 30 s, RFC 4475 §3.1.2.2). */
const PARTIAL_TIMEOUT_MS = 1200;

interface Run {
  te: TestEngine;
  app: RegistrarUasApp;
  /** Final responses to the torture request (not to our ACK/BYE follow-ups). */
  finals: () => PeerMessage[];
  all: () => PeerMessage[];
  /** Responses to our BYEs. */
  byeAnswers: () => PeerMessage[];
  sentAt: number;
  /** Closes the peer, the app and the engine. */
  close: () => Promise<void>;
}

/** Anything still open when a test fails before its own clean-up. */
const live = new Set<() => Promise<void> | void>();
afterAll(async () => {
  for (const f of [...live]) await f();
});

/** A fresh engine and app; `close` also runs the extra clean-ups given later with `also`. */
async function setup(): Promise<{ te: TestEngine; app: RegistrarUasApp; also: (f: () => void) => void; close: () => Promise<void> }> {
  const te = await startTestEngine({ limits: { partialMessageTimeoutMs: PARTIAL_TIMEOUT_MS } });
  const app = await startRegistrarUasApp({ port: te.adminPort, secret: te.secret });
  const extra: Array<() => void> = [];
  const close = async (): Promise<void> => {
    if (!live.delete(close)) return;
    for (const f of extra) f();
    app.stop();
    await te.stop();
  };
  live.add(close);
  return { te, app, also: (f) => extra.push(f), close };
}

const branch = (): string => `z9hG4bK-t${randomBytes(6).toString('hex')}`;

/**
 * The Request-URI of the torture INVITE a response answers, for the ACK of a non-2xx answer (RFC
 * 3261 §17.1.1.3). Found by Call-ID, since dblreq carries two requests.
 */
function requestUriFor(res: PeerMessage, from: TortureCase[]): string {
  const callId = res.headers.get('call-id')?.[0] ?? '';
  for (const c of from) {
    for (const part of c.data.toString('latin1').split(/\r\n(?=INVITE )/)) {
      if (callId && part.includes(callId)) return parsePeerMessage(Buffer.from(part, 'latin1'))?.startLine.split(' ')[1] ?? 'sip:invalid';
    }
  }
  return 'sip:invalid';
}

/**
 * Behave like the UAC that sent the torture INVITE: ACK every final answer to it, and end an
 * answered call with BYE, so the engine retransmits nothing and keeps no dialog.
 */
function uacBehaviour(requestUri: (res: PeerMessage) => string, via: () => string, send: (s: string) => void) {
  return (m: PeerMessage): void => {
    if (m.status === undefined || m.status < 200 || cseqMethod(m) !== 'INVITE') return;
    if (m.status >= 300) return send(ackNon2xx(requestUri(m), m));
    send(ack2xx(m, `${via()};branch=${branch()}`));
    send(byeFor(m, `${via()};branch=${branch()}`));
  };
}

function finalsOf(msgs: PeerMessage[]): PeerMessage[] {
  return msgs.filter((m) => m.status !== undefined && m.status >= 200 && cseqMethod(m) !== 'BYE');
}

async function runUdp(c: TortureCase): Promise<Run & { peer: UdpPeer }> {
  const { te, app, also, close } = await setup();
  const peer = await UdpPeer.open();
  also(() => peer.close());
  peer.onEach(uacBehaviour((res) => requestUriFor(res, [c]), () => `SIP/2.0/UDP 127.0.0.1:${peer.port}`, (s) => void peer.send(s, te.udpPort)));
  const sentAt = Date.now();
  await peer.send(c.data, te.udpPort);
  const run = {
    te, app, peer, sentAt, close,
    all: () => peer.received,
    finals: () => finalsOf(peer.received),
    byeAnswers: () => peer.received.filter((m) => cseqMethod(m) === 'BYE'),
  };
  await settle(run, c.expect);
  return run;
}

/** Wait for the final answer (and the BYE's, for a call), then long enough to see duplicates. */
async function settle(run: Run, expect: TortureCase['expect'] | 'none', finals = 1): Promise<void> {
  if (expect === 'drop' || expect === 'none') return sleep(SILENCE_MS);
  await until(() => run.finals().length >= finals, 3000, 'a final response').catch(() => undefined);
  const call = run.finals().find((m) => m.status! < 300 && cseqMethod(m) === 'INVITE');
  if (call) await until(() => run.byeAnswers().length > 0, 3000, 'the answer to our BYE').catch(() => undefined);
  await sleep(SETTLE_MS);
}

function describeMsgs(msgs: PeerMessage[]): string {
  return JSON.stringify(msgs.map((m) => m.startLine));
}

/** The semantic checks RFC 4475 asks for beyond the status code (stored registrations). */
function checkBindings(file: string, bindings: Map<string, Binding[]>): void {
  const all = [...bindings.values()].flat();
  const params = (b: Binding | undefined): Array<[string, string | null]> => [...(b?.params ?? [])];
  switch (file) {
    case 'escnull.dat':
      // §3.1.1.4: %00 is not a string terminator; two distinct contacts.
      expect(bindings.get('sip:null-%00-null@example.com')?.map((b) => b.uri)).toEqual([
        'sip:%00@host5.example.com',
        'sip:%00%00@host5.example.com',
      ]);
      break;
    case 'cparam01.dat':
      // §3.3.12: without <>, ;unknownparam belongs to the Contact header, not to the URI.
      expect(all.map((b) => b.uri)).toEqual(['sip:+19725552222@gw1.example.net']);
      expect(params(all[0])).toEqual([['unknownparam', null]]);
      break;
    case 'cparam02.dat':
      // §3.3.13: inside <>, ;unknownparam stays a URI parameter.
      expect(all.map((b) => b.uri)).toEqual(['sip:+19725552222@gw1.example.net;unknownparam']);
      expect(params(all[0])).toEqual([]);
      break;
    case 'regescrt.dat':
      // §3.3.14: the escaped Route stays in the stored contact, never applied.
      expect(all.map((b) => b.uri)).toEqual(['sip:user@example.com?Route=%3Csip:sip.example.com%3E']);
      break;
    case 'dblreq.dat':
      expect(bindings.get('sip:j.user@example.com')?.map((b) => b.uri)).toEqual(['sip:j.user@host.example.com']);
      break;
    case 'regaut01.dat':
      expect(all).toEqual([]);
      break;
  }
}

/** Nothing leaked: engine error logs, dialogs left behind by calls we ended. */
async function checkEngineClean(run: Run): Promise<void> {
  expect(run.te.log.counts.error, JSON.stringify(run.te.log.lines)).toBe(0);
  await until(() => run.app.openDialogs() === 0 && (run.te.engine.size().core?.dialogs ?? 0) === 0, 2000, 'dialogs to end').catch(() => undefined);
  expect(run.app.openDialogs()).toBe(0);
  expect(run.te.engine.size().core?.dialogs).toBe(0);
}

describe.concurrent('RFC 4475 over UDP: one datagram per message, symmetric responses', () => {
  it('has all 49 messages', () => {
    expect(cases).toHaveLength(49);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', async (file, c) => {
    const run = await runUdp(c);
    try {
      await checkUdp(file, c, run);
    } finally {
      await run.close();
    }
  });
});

async function checkUdp(file: string, c: TortureCase, run: Run & { peer: UdpPeer }): Promise<void> {
  const finals = run.finals();
  if (c.expect === 'drop') {
    expect(run.all(), describeMsgs(run.all())).toEqual([]);
  } else {
    const want = typeof c.expect === 'number' ? c.expect : HANDLED[file];
    expect(finals.map((m) => m.status), describeMsgs(run.all())).toEqual([want]);
  }
  // Only 100 Trying may come besides the final answer (and our BYE's 200).
  const extra = run.all().filter((m) => !finals.includes(m) && m.status !== 100 && cseqMethod(m) !== 'BYE');
  expect(extra, describeMsgs(extra)).toEqual([]);
  // Via sent-bys name 192.0.2.x, example.com, even 255.255.255.255 (bcast): every reply still
  // goes to the packet's source, and every reply the engine sent arrived.
  const dests = run.te.sent.map((s) => `${s.dest.protocol}:${s.dest.address}:${s.dest.port}`);
  expect(new Set(dests)).toEqual(new Set(dests.length ? [`udp:127.0.0.1:${run.peer.port}`] : []));
  expect(run.all().length + run.peer.garbage.length).toBe(run.te.sent.length);
  expect(run.peer.garbage).toEqual([]);
  checkBindings(file, run.app.bindings);
  await checkEngineClean(run);
}

/**
 * What a stream transport does instead (RFC 3261 §18.3: a stream is framed by Content-Length,
 * which is mandatory there, and a missing one means 0):
 * - clerr (Content-Length 9999, 154 bytes sent) waits for the rest: no answer, and the connection
 *   is closed when the partial-message timeout runs out;
 * - ncl, mcl01 (negative, conflicting Content-Length): no message boundary can be trusted, so the
 *   connection is closed; the engine answers 400 first from the header section, which is allowed;
 * - baddn has no empty line after its headers (331 bytes, no CRLFCRLF), which on a stream is a
 *   header section still arriving: no answer, closed at the partial-message timeout;
 * - dblreq: the bytes after the REGISTER are the next message on a stream, not datagram padding:
 *   the REGISTER gets its 200, then the INVITE is a request of its own (the leading CRLF is
 *   skipped, RFC 3261 §7.5) and the UAS declines it (486: it has no Contact). Its body is 155
 *   bytes against Content-Length 150, so the last 5 bytes, "C" CRLF CRLF, frame as one more
 *   "message" whose start line is just "C": with no Via there is no response to build, so the
 *   engine drops it (answering such junk would make it a reflector). Two answers, in any order;
 * - inv2543 has no Content-Length, which a stream requires (RFC 3261 §18.3, §20.14): 400. The
 *   framer took the body as 0 bytes, so the SDP lines that follow start a header section of their
 *   own; it ends only when the peer's ACK for that 400 arrives behind it, and the glued "message"
 *   (start line "v=0", the ACK's headers, Via included) gets 400 (malformed Request-Line) too.
 */
type StreamVerdict =
  | { kind: 'answer'; statuses: number[] }
  | { kind: 'silent-then-close' }
  | { kind: 'close'; allow400: true };

function streamVerdict(c: TortureCase): StreamVerdict {
  switch (c.file) {
    case 'clerr.dat':
    case 'baddn.dat':
      return { kind: 'silent-then-close' };
    case 'ncl.dat':
    case 'mcl01.dat':
      return { kind: 'close', allow400: true };
    case 'dblreq.dat':
      return { kind: 'answer', statuses: [200, 486] };
    case 'inv2543.dat':
      return { kind: 'answer', statuses: [400, 400] };
  }
  if (c.expect === 'drop') return { kind: 'answer', statuses: [] };
  const want = typeof c.expect === 'number' ? c.expect : HANDLED[c.file];
  return { kind: 'answer', statuses: want === undefined ? [] : [want] };
}

async function runTcp(c: TortureCase, verdict: StreamVerdict): Promise<Run & { peer: TcpPeer }> {
  const { te, app, also, close } = await setup();
  const peer = await TcpPeer.connect(te.tcpPort);
  also(() => peer.close());
  peer.onEach(uacBehaviour((res) => requestUriFor(res, [c]), () => `SIP/2.0/TCP 127.0.0.1:${peer.localPort}`, (s) => void peer.send(s)));
  const sentAt = Date.now();
  await peer.send(c.data);
  const run = {
    te, app, peer, sentAt, close,
    all: () => peer.received,
    finals: () => finalsOf(peer.received),
    byeAnswers: () => peer.received.filter((m) => cseqMethod(m) === 'BYE'),
  };
  if (verdict.kind === 'answer') await settle(run, verdict.statuses.length ? 200 : 'none', verdict.statuses.length);
  return run;
}

describe.concurrent('RFC 4475 over TCP: one connection per message', () => {
  it.each(cases.map((c) => [c.file, c] as const))('%s', async (file, c) => {
    const verdict = streamVerdict(c);
    const run = await runTcp(c, verdict);
    try {
      await checkTcp(file, verdict, run);
    } finally {
      await run.close();
    }
  });
});

async function checkTcp(file: string, verdict: StreamVerdict, run: Run & { peer: TcpPeer }): Promise<void> {
  const peer = run.peer;
  switch (verdict.kind) {
    case 'answer': {
      expect(run.finals().map((m) => m.status).sort(), describeMsgs(run.all())).toEqual(verdict.statuses);
      const extra = run.all().filter((m) => !run.finals().includes(m) && m.status !== 100 && cseqMethod(m) !== 'BYE');
      expect(extra, describeMsgs(extra)).toEqual([]);
      // A complete message leaves the connection usable.
      expect(peer.closed).toBe(false);
      break;
    }
    case 'silent-then-close': {
      await sleep(PARTIAL_TIMEOUT_MS - 200);
      expect(run.all(), describeMsgs(run.all())).toEqual([]);
      expect(peer.closed).toBe(false);
      await until(() => peer.closed, 2000, 'the engine to close the connection');
      expect(peer.closedAt! - run.sentAt).toBeGreaterThanOrEqual(PARTIAL_TIMEOUT_MS - 50);
      expect(run.all()).toEqual([]);
      break;
    }
    case 'close': {
      await until(() => peer.closed, 1000, 'the engine to close the connection');
      expect(run.all().every((m) => m.status === 400), describeMsgs(run.all())).toBe(true);
      expect(run.all().length).toBeLessThanOrEqual(1);
      break;
    }
  }
  // Replies ride on the connection the request came in on (RFC 3261 §18.2.2), whatever the Via says.
  for (const s of run.te.sent) {
    expect(s.dest.connectionId, JSON.stringify(s.dest)).toBeDefined();
    expect(s.flow?.remote, JSON.stringify(s)).toEqual({ address: '127.0.0.1', port: peer.localPort });
  }
  expect(run.all().length).toBe(run.te.sent.length);
  expect(peer.garbage).toEqual([]);
  checkBindings(file, run.app.bindings);
  await checkEngineClean(run);
}

describe('after the whole corpus, one engine still answers', () => {
  const options = (via: string, callId: string): string =>
    [
      'OPTIONS sip:probe@127.0.0.1 SIP/2.0',
      `Via: ${via};branch=${branch()}`,
      'Max-Forwards: 70',
      'From: <sip:probe@127.0.0.1>;tag=probe',
      'To: <sip:probe@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');

  it('a valid OPTIONS gets 200 over UDP and TCP after all 49 messages over both', async () => {
    const { te, also, close } = await setup();
    const udp = await UdpPeer.open();
    also(() => udp.close());
    udp.onEach(uacBehaviour((res) => requestUriFor(res, cases), () => `SIP/2.0/UDP 127.0.0.1:${udp.port}`, (s) => void udp.send(s, te.udpPort)));
    for (const c of cases) await udp.send(c.data, te.udpPort);
    const tcps: TcpPeer[] = [];
    for (const c of cases) {
      const p = await TcpPeer.connect(te.tcpPort);
      also(() => p.close());
      p.onEach(uacBehaviour((res) => requestUriFor(res, cases), () => `SIP/2.0/TCP 127.0.0.1:${p.localPort}`, (s) => void p.send(s)));
      tcps.push(p);
      await p.send(c.data);
    }
    await sleep(300);
    await udp.send(options(`SIP/2.0/UDP 127.0.0.1:${udp.port}`, 'probe-udp'), te.udpPort);
    const u = await udp.waitFor((m) => m.headers.get('call-id')?.[0] === 'probe-udp' && m.status !== undefined && m.status >= 200, 2000, 'UDP OPTIONS answer');
    expect(u.status).toBe(200);
    const tcp = await TcpPeer.connect(te.tcpPort);
    also(() => tcp.close());
    await tcp.send(options(`SIP/2.0/TCP 127.0.0.1:${tcp.localPort}`, 'probe-tcp'));
    const t = await tcp.waitFor((m) => m.headers.get('call-id')?.[0] === 'probe-tcp' && m.status !== undefined && m.status >= 200, 2000, 'TCP OPTIONS answer');
    expect(t.status).toBe(200);
    // Nothing ever left for the addresses the torture messages name.
    const peers = new Set([`udp:${udp.port}`, ...tcps.map((p) => `tcp:${p.localPort}`), `tcp:${tcp.localPort}`]);
    await sleep(50);
    for (const s of te.sent) {
      expect(s.flow?.remote.address, JSON.stringify(s)).toBe('127.0.0.1');
      expect(peers.has(`${s.flow?.protocol}:${s.flow?.remote.port}`), JSON.stringify(s.dest)).toBe(true);
    }
    expect(te.log.counts.error, JSON.stringify(te.log.lines)).toBe(0);
    await close();
  });
});
