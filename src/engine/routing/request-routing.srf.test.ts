/**
 * Routing by drachtio's request handler, end to end (drachtio-protocol §2.2, §6): a real engine
 * with `--http-handler`, raw SIP peers, a real unmodified drachtio-srf app in listen mode (outbound
 * connections) or connected with a tag, and a tiny node:http server as the HTTP handler.
 */
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, harnessPerTest, type Loose } from '../../../test/support/engine-harness.js';
import { cseqOf, hdr, hdrAll, PeerCall, reply, sdp, sleep, until } from '../../../test/support/raw-sip-peer.js';

const require = createRequire(import.meta.url);
const Srf = require('drachtio-srf') as Loose;

const start = harnessPerTest({});
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A net.Server on an ephemeral loopback port, closed after the test along with its sockets. */
async function ephemeralServer<T extends net.Server>(server: T): Promise<{ server: T; port: number }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** An srf app in listen mode (`srf.listen`) on an ephemeral port; counts the engine's connections. */
async function listenApp(setup: (srf: Loose) => void): Promise<{ srf: Loose; port: number; connections: () => number }> {
  const { server, port } = await ephemeralServer(net.createServer());
  let connections = 0;
  server.on('connection', () => connections++);
  const srf = new Srf();
  srf.on('error', () => undefined);
  setup(srf);
  srf.listen({ server, secret: 's' });
  return { srf, port, connections: () => connections };
}

/** A node:http request handler answering with what `answer` returns (JSON, or raw text). */
async function httpHandler(answer: (url: URL, body: string) => unknown): Promise<{ url: string; calls: Array<{ url: URL; method: string; body: string }> }> {
  const calls: Array<{ url: URL; method: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      calls.push({ url, method: req.method ?? '', body });
      void Promise.resolve(answer(url, body)).then((out) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(typeof out === 'string' ? out : JSON.stringify(out));
      });
    });
  });
  const { port } = await ephemeralServer(server);
  return { url: `http://127.0.0.1:${port}/route`, calls };
}

describe('outbound connections (tcp:// handler, srf.listen)', () => {
  it('delivers an INVITE to the listen-mode app, keeps ACK and BYE on that connection, and reuses it', async () => {
    const bye = deferred<void>();
    const app = await listenApp((srf) => {
      srf.invite(async (req: Loose, res: Loose) => {
        const dialog = await srf.createUAS(req, res, { localSdp: sdp(6000) });
        dialog.on('destroy', () => bye.resolve());
      });
    });
    const h = await start({ requestHandler: { url: `tcp://127.0.0.1:${app.port}`, method: 'GET' } });
    const caller = await h.udpPeer();
    const call = new PeerCall(caller);
    await caller.send(call.invite());
    const ok = await caller.waitForResponse(200, 'INVITE', 3000);
    call.established(ok);
    await caller.send(call.ack());
    await caller.send(call.request('BYE'));
    await caller.waitForResponse(200, 'BYE');
    await bye.promise;
    expect(h.engine.wire.clients().filter((c) => c.mode === 'outbound')).toHaveLength(1);

    const second = new PeerCall(caller);
    await caller.send(second.invite());
    await caller.waitFor((m) => m.status === 200 && hdr(m, 'call-id') === second.callId, 3000, 'the second 200');
    expect(app.connections()).toBe(1);
  });

  it('connects again after the app ended the session', async () => {
    const app = await listenApp((srf) => {
      srf.options((req: Loose, res: Loose) => {
        res.send(200);
        srf.endSession(req);
      });
    });
    const h = await start({ requestHandler: { url: `tcp://127.0.0.1:${app.port}`, method: 'GET' } });
    const caller = await h.udpPeer();
    await caller.send(new PeerCall(caller).request('OPTIONS'));
    await caller.waitForResponse(200, 'OPTIONS', 3000);
    await until(() => h.engine.wire.clients().length === 0, 2000, 'the session to end');
    await caller.send(new PeerCall(caller).request('OPTIONS'));
    await until(() => caller.count((m) => m.status === 200) === 2, 3000, 'the second 200');
    expect(app.connections()).toBe(2);
  });

  it('answers 480 when the app cannot be reached', async () => {
    const { server, port } = await ephemeralServer(net.createServer());
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const h = await start({ requestHandler: { url: `tcp://127.0.0.1:${port}`, method: 'GET' } });
    const caller = await h.udpPeer();
    const call = new PeerCall(caller);
    await caller.send(call.invite());
    const res = await caller.waitForResponse(480, 'INVITE', 3000);
    await caller.send(call.ackNon2xx(res));
  });
});

describe('HTTP request handler', () => {
  it('sends drachtio\'s query and answers a reject with its status', async () => {
    const handler = await httpHandler(() => ({ action: 'reject', data: { status: 403, reason: 'Not Here' } }));
    const h = await start({ requestHandler: { url: handler.url, method: 'GET' } });
    const caller = await h.udpPeer();
    const call = new PeerCall(caller, { user: 'alice' });
    await caller.send(call.invite());
    const res = await caller.waitForResponse(403, 'INVITE', 3000);
    expect(res.startLine).toBe('SIP/2.0 403 Not Here');
    await caller.send(call.ackNon2xx(res));
    const q = handler.calls[0]!.url.searchParams;
    expect(Object.fromEntries(q)).toMatchObject({ method: 'INVITE', domain: '127.0.0.1', protocol: 'udp', source_address: '127.0.0.1', fromUser: 'caller', toUser: 'alice', uriUser: 'alice', contentType: 'application/sdp' });
    expect(q.get('uri')).toMatch(/^sip:alice@127\.0\.0\.1:\d+$/);
  });

  it('POSTs the SIP message and answers a redirect with 302 and the Contacts', async () => {
    const handler = await httpHandler(() => ({ action: 'redirect', data: { contact: ['sip:a@192.0.2.1', '<sip:b@192.0.2.2>;q=0.5'] } }));
    const h = await start({ requestHandler: { url: handler.url, method: 'POST' } });
    const caller = await h.udpPeer();
    const call = new PeerCall(caller);
    await caller.send(call.invite());
    const res = await caller.waitForResponse(302, 'INVITE', 3000);
    await caller.send(call.ackNon2xx(res));
    expect(hdrAll(res, 'contact')).toEqual(['<sip:a@192.0.2.1>', '<sip:b@192.0.2.2>;q=0.5']);
    expect(handler.calls[0]!.method).toBe('POST');
    expect(handler.calls[0]!.body).toMatch(/^INVITE sip:service@/);
  });

  it('proxies: the request reaches the destination and its 200 comes back', async () => {
    let target = 0;
    const handler = await httpHandler(() => ({ action: 'proxy', data: { destination: `127.0.0.1:${target}`, recordRoute: false } }));
    const h = await start({ requestHandler: { url: handler.url, method: 'GET' } });
    const callee = await h.udpPeer();
    target = callee.port;
    callee.autoAnswer((m) => (m.method === 'INVITE' ? reply(m, 200, 'OK', { contact: callee.contactUri('callee'), body: sdp(7000) }) : undefined));
    const caller = await h.udpPeer();
    const call = new PeerCall(caller);
    await caller.send(call.invite());
    await callee.waitForRequest('INVITE', 3000);
    const ok = await caller.waitForResponse(200, 'INVITE', 3000);
    expect(hdr(ok, 'call-id')).toBe(call.callId);
  });

  it('route {tag} gives the request to the inbound app with that tag', async () => {
    const handler = await httpHandler(() => ({ action: 'route', data: { tag: 'blue' } }));
    const h = await start({ requestHandler: { url: handler.url, method: 'GET' } });
    const blue = new Srf('blue');
    blue.on('error', () => undefined);
    blue.message((_req: Loose, res: Loose) => res.send(202));
    h.apps.push(blue);
    await new Promise<void>((resolve, reject) => {
      blue.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
      blue.connect({ host: '127.0.0.1', port: h.adminPort, secret: 's' });
    });
    await until(() => h.engine.wire.clientsFor('message').length === 1, 2000, 'the message route');
    const caller = await h.udpPeer();
    await caller.send(new PeerCall(caller).request('MESSAGE', { body: 'hi', contentType: 'text/plain' }));
    await caller.waitForResponse(202, 'MESSAGE', 3000);
  });

  it('answers 503 for a tag no app has, and 500 for garbage', async () => {
    let answer: unknown = { action: 'route', data: { tag: 'nobody' } };
    const handler = await httpHandler(() => answer);
    const h = await start({ requestHandler: { url: handler.url, method: 'GET' } });
    const caller = await h.udpPeer();
    await caller.send(new PeerCall(caller).request('OPTIONS'));
    await caller.waitForResponse(503, 'OPTIONS', 3000);
    answer = 'this is {not json';
    await caller.send(new PeerCall(caller).request('OPTIONS'));
    await caller.waitForResponse(500, 'OPTIONS', 3000);
    answer = { action: 'teleport', data: {} };
    await caller.send(new PeerCall(caller).request('OPTIONS'));
    await until(() => caller.count((m) => m.status === 500) === 2, 3000, 'a second 500');
  });

  it('answers 487 to an INVITE CANCELled while the handler is still deciding, and delivers it to no app', async () => {
    const handler = await httpHandler(async () => {
      await sleep(300);
      return { action: 'route', data: { tag: 'blue' } };
    });
    const h = await start({ requestHandler: { url: handler.url, method: 'GET' } });
    const invites: string[] = [];
    const blue = new Srf('blue');
    blue.on('error', () => undefined);
    blue.invite((req: Loose) => invites.push(req.method));
    h.apps.push(blue);
    await new Promise<void>((resolve, reject) => {
      blue.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
      blue.connect({ host: '127.0.0.1', port: h.adminPort, secret: 's' });
    });
    const caller = await h.udpPeer();
    const call = new PeerCall(caller);
    await caller.send(call.invite());
    await until(() => handler.calls.length === 1, 2000, 'the handler call');
    await caller.send(call.cancel());
    await caller.waitForResponse(200, 'CANCEL');
    const res = await caller.waitForResponse(487, 'INVITE');
    await caller.send(call.ackNon2xx(res));
    await sleep(500);
    expect(invites).toEqual([]);
    expect(caller.count((m) => cseqOf(m).method === 'INVITE' && (m.status ?? 0) >= 200)).toBe(1);
  });
});
