/**
 * The meta builders checked against drachtio-srf's own parser: a real `DrachtioAgent` is driven
 * without a network (fake socket, recording `wp.send`) and fed our payloads through `_onMsg`.
 * This reaches into srf internals on purpose — they are the contract we must match.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  cdrAttempt,
  cdrStart,
  cdrStop,
  proxyContinue,
  proxyDone,
  requestEcho,
  responseEcho,
  responseNo,
  responseNok,
  responseOk,
  sipCancelNotice,
  sipMessage,
  sipNewRequest,
  sipUnsolicitedBye,
  stackTime,
} from './meta.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = any;
type PendingFn = (token: string[], raw: string | undefined, meta: Record<string, string>) => void;

const require = createRequire(import.meta.url);

function agentHarness() {
  const Agent = require('drachtio-srf/lib/drachtio-agent.js') as Loose;
  const punted: { req: Loose; res: Loose }[] = [];
  const sent: { msgId: string; payload: string }[] = [];
  const agent = new Agent((req: Loose, res: Loose) => punted.push({ req, res }));
  let n = 0;
  agent.wp = {
    isClient: true,
    send(_socket: unknown, payload: string): string {
      const msgId = `m${++n}`;
      sent.push({ msgId, payload });
      return msgId;
    },
  };
  const socket = new net.Socket();
  const state = agent._initServer(socket) as {
    pendingRequests: Map<string, PendingFn>;
    pendingNetworkInvites: Map<string, unknown>;
    authenticated: boolean;
    hostport: string;
  };
  state.authenticated = true;
  state.hostport = 'udp/127.0.0.1:5060';
  const feed = (payload: string): void => agent._onMsg(socket, payload);
  return { agent, socket, state, punted, sent, feed };
}

const metaTokens = (payload: string): string[] => {
  const cr = payload.indexOf('\r');
  return (cr < 0 ? payload : payload.slice(0, cr)).split('|');
};

const INVITE = [
  'INVITE sip:svc@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:6001;branch=z9hG4bK-1;rport',
  'From: <sip:alice@127.0.0.1:6001>;tag=fa',
  'To: <sip:svc@127.0.0.1:5060>',
  'Call-ID: ca',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@127.0.0.1:6001>',
  'Subject: café ☕',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');
const CANCEL = INVITE.replace('INVITE sip', 'CANCEL sip').replace('1 INVITE', '1 CANCEL');
const BYE = INVITE.replace('INVITE sip', 'BYE sip').replace('1 INVITE', '2 BYE').replace('<sip:svc@127.0.0.1:5060>', '<sip:svc@127.0.0.1:5060>;tag=lt');
const OK200 = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-2',
  'From: <sip:svc@127.0.0.1:5060>;tag=ft',
  'To: <sip:bob@127.0.0.1:5080>;tag=tb',
  'Call-ID: cb',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');
const peer = { protocol: 'udp', address: '127.0.0.1', port: 6001, time: '10:00:00.000001' };

describe('stackTime', () => {
  it('formats the UTC time of day with microseconds', () => {
    expect(stackTime(Date.UTC(2024, 0, 1, 9, 5, 7) + 123.456)).toBe('09:05:07.123456');
    expect(stackTime(Date.UTC(2024, 0, 1, 23, 59, 59) + 999.9999)).toBe('00:00:00.000000');
    expect(stackTime()).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
  });
});

describe('sip messages, as srf parses them', () => {
  it('a new request has 13 tokens and sets receivedOn', () => {
    const h = agentHarness();
    const payload = sipNewRequest({ ...peer, transactionId: 'T1', recvHost: '127.0.0.1', recvPort: 5060 }, INVITE);
    const t = metaTokens(payload);
    expect(t).toHaveLength(13);
    expect(t.slice(1)).toEqual(['sip', 'network', String(Buffer.byteLength(INVITE)), 'udp', '127.0.0.1', '6001',
      '10:00:00.000001', 'T1', '', '127.0.0.1', '5060', '']);
    h.feed(payload);
    expect(h.punted).toHaveLength(1);
    const { req } = h.punted[0]!;
    expect(req.method).toBe('INVITE');
    expect(req.source).toBe('network');
    expect(req.source_address).toBe('127.0.0.1');
    expect(req.source_port).toBe(6001);
    expect(req.protocol).toBe('udp');
    expect(req.stackTime).toBe('10:00:00.000001');
    expect(req.stackTxnId).toBe('T1');
    expect(req.stackDialogId).toBe('');
    expect(req.receivedOn).toBe('127.0.0.1:5060');
    expect(req.get('Subject')).toBe('café ☕');
    expect(req.server.hostport).toBe('udp/127.0.0.1:5060');
  });

  it('an in-dialog request has 11 tokens and carries the dialogId', () => {
    const h = agentHarness();
    const payload = sipMessage({ ...peer, transactionId: 'T2', dialogId: 'ca;from-tag=fa' }, BYE);
    expect(metaTokens(payload)).toHaveLength(11);
    h.feed(payload);
    expect(h.punted[0]!.req.stackDialogId).toBe('ca;from-tag=fa');
    expect(h.punted[0]!.req.stackTxnId).toBe('T2');
    expect(h.punted[0]!.req.receivedOn).toBeUndefined();
  });

  it('the quick-CANCEL notice has 11 tokens and raises cancel on the pending INVITE', () => {
    const h = agentHarness();
    h.feed(sipNewRequest({ ...peer, transactionId: 'T1', recvHost: '127.0.0.1', recvPort: 5060 }, INVITE));
    const { req } = h.punted[0]!;
    let canceled = false;
    req.on('cancel', () => (canceled = true));
    const payload = sipCancelNotice({ ...peer, inviteTransactionId: 'T1' }, CANCEL);
    expect(metaTokens(payload)).toEqual(expect.arrayContaining(['T1']));
    expect(metaTokens(payload)).toHaveLength(11);
    expect(metaTokens(payload).slice(8)).toEqual(['T1', '', '']);
    h.feed(payload);
    expect(canceled).toBe(true);
    expect(h.punted).toHaveLength(1);
  });

  it('the unsolicited BYE is dispatched with res.send stubbed', () => {
    const h = agentHarness();
    const payload = sipUnsolicitedBye({ protocol: 'udp', localHost: '127.0.0.1', localPort: 5060, dialogId: 'ca;from-tag=fa' }, BYE);
    const t = metaTokens(payload);
    expect(t).toHaveLength(11);
    expect(t[2]).toBe('application');
    expect(t[8]).toBe('unsolicited');
    h.feed(payload);
    const { req, res } = h.punted[0]!;
    expect(req.source).toBe('application');
    expect(req.stackTxnId).toBe('unsolicited');
    expect(req.stackDialogId).toBe('ca;from-tag=fa');
    expect(() => res.send(200)).not.toThrow();
    expect(h.sent).toHaveLength(0);
  });
});

describe('response messages, as srf parses them', () => {
  it('the request echo registers the transaction, then a network response reaches the request', () => {
    const h = agentHarness();
    let sentReq: Loose;
    h.agent.request(h.socket, 'sip:bob@127.0.0.1:5080', { method: 'OPTIONS' }, (err: unknown, req: Loose) => {
      expect(err).toBeNull();
      sentReq = req;
    });
    const { msgId } = h.sent[0]!;
    const echo = requestEcho(msgId, { protocol: 'udp', localHost: '127.0.0.1', localPort: 5060, transactionId: 'TX' },
      OK200.replace('SIP/2.0 200 OK', 'OPTIONS sip:bob@127.0.0.1:5080 SIP/2.0'));
    const t = metaTokens(echo);
    expect(t).toHaveLength(13);
    expect(t.slice(10)).toEqual(['TX', 'Msg sent:', '']);
    h.feed(echo);
    expect(sentReq.stackTxnId).toBe('TX');
    expect(sentReq.source).toBe('application');
    expect(sentReq.source_address).toBe('127.0.0.1');
    expect(sentReq.source_port).toBe(5060);
    const statuses: number[] = [];
    sentReq.on('response', (res: Loose) => statuses.push(res.status));
    h.feed(sipMessage({ ...peer, port: 5080, transactionId: 'TX' }, OK200));
    expect(statuses).toEqual([200]);
  });

  it('the response echo carries the dialogId in token 11 (srf meta2.dialogId)', () => {
    const h = agentHarness();
    const calls: { token: string[]; raw: string | undefined; meta: Record<string, string> }[] = [];
    h.state.pendingRequests.set('m9', (token, raw, meta) => calls.push({ token, raw, meta }));
    const echo = responseEcho('m9', { protocol: 'udp', remoteHost: '127.0.0.1', remotePort: 6001, transactionId: 'TA',
      dialogId: 'ca;from-tag=fa', time: '10:00:00.000002' }, OK200);
    const t = metaTokens(echo);
    expect(t).toHaveLength(15);
    expect(t.slice(10)).toEqual(['TA', 'ca;from-tag=fa', '', 'Msg sent:', '']);
    h.feed(echo);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.token[0]).toBe('OK');
    expect(calls[0]!.raw).toBe(OK200);
    expect(calls[0]!.meta).toMatchObject({ source: 'application', address: '127.0.0.1', port: '6001', protocol: 'udp',
      time: '10:00:00.000002', transactionId: 'TA', dialogId: 'ca;from-tag=fa' });
    expect(h.state.pendingRequests.has('m9')).toBe(false);
  });

  it('proxy continue keeps the callback alive; done ends it', () => {
    const h = agentHarness();
    const seen: string[][] = [];
    h.state.pendingRequests.set('mp', (token) => seen.push(token));
    const cont = proxyContinue('mp', { protocol: 'udp', address: '127.0.0.1', port: 5080 }, OK200);
    expect(metaTokens(cont)[12]).toBe('continue');
    h.feed(cont);
    expect(h.state.pendingRequests.has('mp')).toBe(true);
    h.feed(proxyDone('mp'));
    expect(h.state.pendingRequests.has('mp')).toBe(false);
    expect(seen.map((t) => t.slice(0, 2))).toEqual([['OK', 'network'], ['OK', 'done']]);
  });

  it('OK, NO and NOK replies pass tokens from index 3 on', () => {
    const h = agentHarness();
    const seen: string[][] = [];
    for (const id of ['a', 'b', 'c', 'd']) h.state.pendingRequests.set(id, (token) => seen.push(token));
    h.feed(responseOk('a', 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060', 'v1.0.0', 'udp/10.0.0.1:5060'));
    h.feed(responseOk('b', 'pong'));
    h.feed(responseNo('c', 'incorrect secret'));
    h.feed(responseNok('d', 'bad|reason\r\nsplit'));
    expect(seen).toEqual([
      ['OK', 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060', 'v1.0.0', 'udp/10.0.0.1:5060'],
      ['OK', 'pong'],
      ['NO', 'incorrect secret'],
      ['NOK', 'bad reason  split'],
    ]);
    expect(responseOk('x')).toMatch(/^[0-9a-f-]{36}\|response\|x\|OK$/);
  });
});

describe('cdr messages, as srf parses them', () => {
  it('calls the cdr handlers with (source, time[, role|reason], msg)', () => {
    const h = agentHarness();
    const calls: unknown[][] = [];
    for (const ev of ['attempt', 'start', 'stop']) {
      h.agent.cdrHandlers.set(ev, (...args: Loose[]) => calls.push(args.map((a) => (typeof a === 'string' ? a : a.method))));
    }
    h.feed(cdrAttempt({ source: 'network', time: 't1' }, INVITE));
    h.feed(cdrStart({ source: 'application', role: 'uas', time: 't2' }, INVITE));
    h.feed(cdrStop({ source: 'network', reason: 'normal-release', time: 't3' }, INVITE));
    expect(calls).toEqual([
      ['network', 't1', 'INVITE'],
      ['application', 't2', 'uas', 'INVITE'],
      ['network', 't3', 'normal-release', 'INVITE'],
    ]);
  });
});
