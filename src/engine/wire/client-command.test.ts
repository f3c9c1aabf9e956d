/**
 * The command parser, fed with what drachtio-srf's own agent writes (a real `DrachtioAgent` with a
 * recording `wp.send`), plus hand-written edge cases.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseClientMessage, parseProxyTimeout, sipNewRequest } from './meta.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = any;
const require = createRequire(import.meta.url);

/** A real srf agent whose writes are captured as complete payloads (`<msgId>|…`). */
function srfWriter(tags: string[] = []) {
  const Agent = require('drachtio-srf/lib/drachtio-agent.js') as Loose;
  const punted: Loose[] = [];
  const agent = new Agent((req: Loose) => punted.push(req));
  const payloads: string[] = [];
  let n = 0;
  agent.wp = {
    isClient: true,
    send: (_s: unknown, msg: string) => {
      const id = `m${++n}`;
      payloads.push(`${id}|${msg}`);
      return id;
    },
  };
  agent.secret = 'cy|mru';
  agent.tags = tags;
  const socket = new net.Socket();
  agent._onConnect(socket); // sends authenticate
  return { agent, socket, payloads, punted };
}

describe('parseClientMessage on srf output', () => {
  it('authenticate with and without tags (a secret containing | survives)', () => {
    expect(parseClientMessage(srfWriter(['tag1', 'a@b:c']).payloads[0]!)).toEqual({
      type: 'authenticate', msgId: 'm1', secret: 'cy|mru', tags: ['tag1', 'a@b:c'],
    });
    expect(parseClientMessage(srfWriter().payloads[0]!)).toEqual({ type: 'authenticate', msgId: 'm1', secret: 'cy|mru', tags: [] });
    expect(parseClientMessage('x|authenticate|cymru')).toEqual({ type: 'authenticate', msgId: 'x', secret: 'cymru', tags: [] });
  });

  it('route and remove_route, lowercased', () => {
    const w = srfWriter();
    w.agent.mapServer.get(w.socket).authenticated = true;
    w.agent.route('INVITE');
    w.agent.route('cdr:stop');
    w.agent.removeRoute('cdr:stop');
    const cmds = w.payloads.slice(1).map(parseClientMessage);
    // srf re-sends every verb each time one is added: the server must de-duplicate
    expect(cmds).toEqual([
      { type: 'route', msgId: 'm2', verb: 'invite' },
      { type: 'route', msgId: 'm3', verb: 'invite' },
      { type: 'route', msgId: 'm4', verb: 'cdr:stop' },
      { type: 'remove_route', msgId: 'm5', verb: 'cdr:stop' },
    ]);
    expect(parseClientMessage('q|route|INVITE')).toEqual({ type: 'route', msgId: 'q', verb: 'invite' });
    expect(parseClientMessage('q|route|')).toMatchObject({ type: 'malformed', reason: 'missing verb' });
  });

  it('a new out-of-dialog request with a routeUri and a UTF-8 body', () => {
    const w = srfWriter();
    w.agent.request(w.socket, 'sip:bob@example.com', {
      method: 'MESSAGE', proxy: 'sip:127.0.0.1:5080', headers: { 'Content-Type': 'text/plain', 'X-Foo': 'a|b' }, body: 'héllo 😀',
    });
    const cmd = parseClientMessage(w.payloads[1]!);
    expect(cmd).toMatchObject({ type: 'sip', msgId: 'm2', transactionId: '', dialogId: '', routeUri: 'sip:127.0.0.1:5080' });
    if (cmd.type !== 'sip') throw new Error('not sip');
    expect(cmd.sip.startsWith('MESSAGE sip:bob@example.com SIP/2.0\r\n')).toBe(true);
    expect(cmd.sip).toContain('X-Foo: a|b');
    expect(cmd.sip.endsWith('\r\n\r\nhéllo 😀')).toBe(true);
  });

  it('an in-dialog request (placeholder uri) and a response', () => {
    const w = srfWriter();
    w.agent.request(w.socket, { method: 'BYE', stackDialogId: 'c1;from-tag=ft' });
    expect(parseClientMessage(w.payloads[1]!)).toMatchObject({ type: 'sip', transactionId: '', dialogId: 'c1;from-tag=ft' });
    expect((parseClientMessage(w.payloads[1]!) as { sip: string }).sip).toMatch(/^BYE sip:placeholder SIP\/2.0\r\n/);
    expect(parseClientMessage('r|sip|T1|\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual({
      type: 'sip', msgId: 'r', transactionId: 'T1', dialogId: '', sip: 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    });
  });

  it('proxy, with every option srf can set', () => {
    const w = srfWriter();
    const invite = 'INVITE sip:svc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n' +
      'To: <sip:svc@127.0.0.1>\r\nCall-ID: c9\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
    w.agent._onMsg(w.socket, sipNewRequest({ protocol: 'udp', address: '1.2.3.4', port: 5060, transactionId: 'T7',
      recvHost: '127.0.0.1', recvPort: 5060 }, invite));
    const req = w.punted[0];
    void req.proxy({ destination: ['127.0.0.1:5080', 'sip:b@127.0.0.1:5090'], remainInDialog: true, forking: 'simultaneous',
      provisionalTimeout: '2s', followRedirects: true, headers: { 'X-Route': 'r1' } });
    const cmd = parseClientMessage(w.payloads[1]!);
    expect(cmd).toEqual({
      type: 'proxy', msgId: 'm2', transactionId: 'T7', remainInDialog: true, fullResponse: true, followRedirects: true,
      simultaneous: true, provisionalTimeout: '2s', finalTimeout: '', destinations: ['sip:127.0.0.1:5080', 'sip:b@127.0.0.1:5090'],
      sip: expect.stringMatching(/^INVITE sip:127.0.0.1:5080 SIP\/2.0\r\n(.|\r\n)*X-Route: r1\r\n/),
    });
    void w.punted[0].proxy({ destination: 'sip:x@127.0.0.1:5080' });
    expect(parseClientMessage(w.payloads[2]!)).toMatchObject({
      remainInDialog: false, followRedirects: false, simultaneous: false, destinations: ['sip:x@127.0.0.1:5080'],
    });
  });
});

describe('parseClientMessage edge cases', () => {
  it('ping, unknown and garbage', () => {
    expect(parseClientMessage('p|ping')).toEqual({ type: 'ping', msgId: 'p' });
    expect(parseClientMessage('p|bogus|x')).toEqual({ type: 'unknown', msgId: 'p', command: 'bogus' });
    expect(parseClientMessage('garbage')).toEqual({ type: 'unknown', msgId: 'garbage', command: '' });
    expect(parseClientMessage('')).toEqual({ type: 'unknown', msgId: '', command: '' });
  });

  it('the meta line ends at the first CR; a sip command needs SIP text', () => {
    expect(parseClientMessage('s|sip|T|d\r\nA|B')).toMatchObject({ transactionId: 'T', dialogId: 'd', sip: 'A|B' });
    expect(parseClientMessage('s|sip|T|')).toMatchObject({ type: 'malformed', reason: 'missing SIP message' });
    expect(parseClientMessage('s|proxy|T||||serial|||\r\nINVITE x SIP/2.0\r\n\r\n')).toMatchObject({
      type: 'malformed', reason: 'missing destination',
    });
    expect(parseClientMessage('s|proxy||||||||sip:a\r\nINVITE x SIP/2.0\r\n\r\n')).toMatchObject({
      type: 'malformed', reason: 'missing transaction id',
    });
  });

  it('parseProxyTimeout', () => {
    expect(parseProxyTimeout('2s')).toBe(2000);
    expect(parseProxyTimeout('1500ms')).toBe(1500);
    expect(parseProxyTimeout('700')).toBe(700);
    expect(parseProxyTimeout('')).toBeUndefined();
    expect(parseProxyTimeout('soon')).toBeUndefined();
  });
});
