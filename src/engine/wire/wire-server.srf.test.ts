/**
 * WireServer against the real, unmodified drachtio-srf client (node_modules/drachtio-srf) over
 * real sockets on 127.0.0.1, with the dialog core replaced by a small scripted handler.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientConnection } from './client-connection.js';
import { requestEcho, sipMessage, sipNewRequest, type ProxyCommand, type SipCommand } from './meta.js';
import type { WireHandler } from './types.js';
import { WireServer } from './wire-server.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = any;
const require = createRequire(import.meta.url);
const Srf = require('drachtio-srf') as Loose;

const HOSTPORTS = { external: 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060', local: 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060' };

/** Stands in for the dialog core: records commands and lets each test script replies. */
class ScriptedHandler implements WireHandler {
  sips: { client: ClientConnection; cmd: SipCommand }[] = [];
  closed: ClientConnection[] = [];
  onSipReply: ((client: ClientConnection, cmd: SipCommand) => void) | undefined;
  onSip(client: ClientConnection, cmd: SipCommand): void {
    this.sips.push({ client, cmd });
    this.onSipReply?.(client, cmd);
  }
  onProxy(_client: ClientConnection, _cmd: ProxyCommand): void {}
  onClientClosed(client: ClientConnection): void {
    this.closed.push(client);
  }
}

const servers: WireServer[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const f of cleanups.splice(0)) {
    try {
      f();
    } catch {
      // srf.disconnect() throws when its socket is already gone
    }
  }
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function startServer() {
  const handler = new ScriptedHandler();
  const server = new WireServer({ host: '127.0.0.1', port: 0, secret: 'cymru', hostports: () => HOSTPORTS, handler });
  servers.push(server);
  const { port } = await server.start();
  return { server, handler, port };
}

interface Connected {
  srf: Loose;
  err: Error | null;
  hostport?: string;
  version?: string;
  local?: string;
}

/** Creates an Srf (optionally tagged), lets `prepare` register handlers, connects, awaits 'connect'. */
function connectSrf(port: number, opts: { secret?: string; tags?: string[]; ping?: boolean; prepare?: (srf: Loose) => void } = {}) {
  const srf = opts.tags ? new Srf(opts.tags) : new Srf();
  srf.on('error', () => {});
  cleanups.push(() => srf.disconnect());
  opts.prepare?.(srf);
  return new Promise<Connected>((resolve) => {
    srf.once('connect', (err: Error | null, hostport?: string, version?: string, local?: string) =>
      resolve({ srf, err, hostport, version, local }));
    srf.connect({ host: '127.0.0.1', port, secret: opts.secret ?? 'cymru', reconnect: { maxAttempts: 1 },
      ...(opts.ping ? { enablePing: true, pingInterval: 5000 } : {}) });
  });
}

async function eventually(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const invite = (callId: string): string => [
  'INVITE sip:svc@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:6001;branch=z9hG4bK-' + callId,
  'From: <sip:alice@127.0.0.1:6001>;tag=fa',
  'To: <sip:svc@127.0.0.1:5060>',
  `Call-ID: ${callId}`,
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@127.0.0.1:6001>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('drachtio-srf connect mode against WireServer', () => {
  it('authenticates: srf emits connect with hostports, version and local hostports', async () => {
    const { server, port } = await startServer();
    const c = await connectSrf(port);
    expect(c.err).toBeNull();
    expect(c.hostport).toBe(HOSTPORTS.external);
    expect(c.version).toBe('v1.0.0');
    expect(c.local).toBe(HOSTPORTS.local);
    expect(server.clients()).toHaveLength(1);
    expect(server.clients()[0]!.authenticated).toBe(true);
  });

  it('de-duplicates the routes srf re-sends when verbs are added after connecting', async () => {
    const { server, port } = await startServer();
    const { srf } = await connectSrf(port, { prepare: (s) => s.use('invite', () => {}) });
    await eventually(() => server.clientsFor('invite').length === 1);
    srf.invite(() => {}); // same verb again: srf sends nothing new for it
    srf.register(() => {}); // srf re-sends route|invite along with route|register
    srf.on('cdr:stop', () => {});
    const conn = server.clients()[0]!;
    await eventually(() => conn.verbs.size === 3);
    expect([...conn.verbs].sort()).toEqual(['cdr:stop', 'invite', 'register']);
    expect(server.clientsFor('invite')).toEqual([conn]);
    expect(server.clientsFor('REGISTER')).toEqual([conn]);
  });

  it('answers srf pings with pong (version gate exercised outside NODE_ENV=test)', async () => {
    const { port } = await startServer();
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    let c: Connected;
    try {
      c = await connectSrf(port, { ping: true });
    } finally {
      process.env.NODE_ENV = saved;
    }
    const agent = c.srf.app.client;
    const socket = agent.mapServer.keys().next().value as net.Socket;
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    const pingIds: string[] = [];
    agent.wp.on('ping', ({ msgId }: { msgId: string }) => pingIds.push(msgId));
    await eventually(() => pingIds.length > 0 && received.includes(`|response|${pingIds[0]}|OK|pong`), 8000);
  }, 15000);

  it('refuses a wrong secret and closes the connection', async () => {
    const { server, port } = await startServer();
    const c = await connectSrf(port, { secret: 'nope' });
    expect(c.err).toBeInstanceOf(Error);
    expect(c.err!.message).toMatch(/failed to authenticate/);
    await eventually(() => server.clients().length === 0);
    const closed = new Promise<void>((resolve) => c.srf.once('close', () => resolve()));
    if (c.srf.app.client.mapServer.size > 0) await closed;
  });

  it('routes by tag, round-robins between two apps, and forgets a disconnected app', async () => {
    const { server, handler, port } = await startServer();
    const seen: string[] = [];
    const answer = (name: string) => (s: Loose) =>
      s.invite((req: Loose, res: Loose) => {
        seen.push(`${name}:${req.get('Call-ID')}`);
        res.send(486);
      });
    const a = await connectSrf(port, { tags: ['blue'], prepare: answer('a') });
    const b = await connectSrf(port, { tags: ['green', 'blue'], prepare: answer('b') });
    await eventually(() => server.clientsFor('invite').length === 2);
    const green = server.pickClient('invite', 'green')!;
    expect(green.tags).toEqual(['green', 'blue']);

    for (const callId of ['c1', 'c2', 'c3', 'c4']) {
      const conn = server.pickClient('invite')!;
      conn.send(sipNewRequest({ protocol: 'udp', address: '127.0.0.1', port: 6001, transactionId: `T-${callId}`,
        recvHost: '127.0.0.1', recvPort: 5060 }, invite(callId)));
    }
    await eventually(() => handler.sips.length === 4);
    expect(seen.sort()).toEqual(['a:c1', 'a:c3', 'b:c2', 'b:c4']);
    // each app answered on its own connection, naming the transaction it was given
    for (const { client, cmd } of handler.sips) {
      expect(cmd.sip).toMatch(/^SIP\/2.0 486 /);
      expect(client.tags.includes('green')).toBe(['T-c2', 'T-c4'].includes(cmd.transactionId));
    }

    b.srf.disconnect();
    await eventually(() => handler.closed.length === 1);
    expect(handler.closed[0]).toBe(green);
    expect(server.clientsFor('invite')).toHaveLength(1);
    expect(server.pickClient('invite', 'green')).toBeUndefined();
    expect(server.pickClient('invite', 'blue')!.tags).toEqual(['blue']);
    void a;
  });

  it('hands srf.request to the core and delivers the echo and the response back', async () => {
    const { handler, port } = await startServer();
    handler.onSipReply = (client, cmd) => {
      client.send(requestEcho(cmd.msgId, { protocol: 'udp', localHost: '127.0.0.1', localPort: 5060, transactionId: 'T-opt' }, cmd.sip));
      const response = ['SIP/2.0 200 OK', 'From: <sip:127.0.0.1>;tag=x', 'To: <sip:bob@127.0.0.1:5080>;tag=y', 'Call-ID: q',
        'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
      client.send(sipMessage({ protocol: 'udp', address: '127.0.0.1', port: 5080, transactionId: 'T-opt' }, response));
    };
    const { srf } = await connectSrf(port);
    // The callback form attaches the 'response' listener before srf reads the next frame: here the
    // echo and the response arrive in one TCP read, as they may from the real core.
    const { req, status } = await new Promise<{ req: Loose; status: number }>((resolve, reject) => {
      srf.request('sip:bob@127.0.0.1:5080', { method: 'OPTIONS', headers: { 'X-Test': 'ünïcode' } }, (err: Error | null, req: Loose) => {
        if (err) return reject(err);
        req.on('response', (res: Loose) => resolve({ req, status: res.status }));
      });
    });
    expect(req.stackTxnId).toBe('T-opt');
    expect(status).toBe(200);
    const { cmd } = handler.sips[0]!;
    expect(cmd).toMatchObject({ type: 'sip', transactionId: '', dialogId: '' });
    expect(cmd.routeUri).toBeUndefined();
    expect(cmd.sip).toMatch(/^OPTIONS sip:bob@127.0.0.1:5080 SIP\/2.0\r\n/);
    expect(cmd.sip).toContain('X-Test: ünïcode');
  });
});

describe('drachtio-srf listen mode (outbound connections)', () => {
  async function listeningSrf(secret: string, tls?: { key: Buffer; cert: Buffer }) {
    const srf = new Srf();
    srf.on('error', () => {});
    srf.options((_req: Loose, res: Loose) => res.send(200));
    const connects: (Error | null)[] = [];
    srf.on('connect', (err: Error | null) => connects.push(err));
    const tcp = srf.listen({ port: 0, host: '127.0.0.1', secret, ...(tls ? { tls } : {}) }) as net.Server;
    cleanups.push(() => tcp.close());
    await new Promise<void>((resolve) => (tcp.listening ? resolve() : tcp.once('listening', () => resolve())));
    return { srf, connects, port: (tcp.address() as net.AddressInfo).port };
  }

  it('connects, accepts the app’s authenticate, then carries a request and its response', async () => {
    const { server, handler } = await startServer();
    const app = await listeningSrf('cymru');
    const conn = await server.connectOutbound(`127.0.0.1:${app.port};transport=tcp`);
    expect(conn.mode).toBe('outbound');
    expect(conn.authenticated).toBe(true);
    await eventually(() => app.connects.length === 1);
    expect(app.connects[0]).toBeNull();
    const options = invite('o1').replace(/INVITE/g, 'OPTIONS');
    conn.send(sipNewRequest({ protocol: 'udp', address: '127.0.0.1', port: 6001, transactionId: 'T-o1',
      recvHost: '127.0.0.1', recvPort: 5060 }, options));
    await eventually(() => handler.sips.length === 1);
    expect(handler.sips[0]!.client).toBe(conn);
    expect(handler.sips[0]!.cmd).toMatchObject({ transactionId: 'T-o1', sip: expect.stringMatching(/^SIP\/2.0 200 OK/) });
    conn.close();
    await eventually(() => handler.closed.includes(conn));
  });

  it('connects over TLS, verifying the app’s certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wire-srf-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const app = await listeningSrf('cymru', { key, cert });
    const handler = new ScriptedHandler();
    const server = new WireServer({ host: '127.0.0.1', port: 0, secret: 'cymru', hostports: () => HOSTPORTS, handler,
      outboundTls: { ca: cert } });
    servers.push(server);
    await server.start();
    const conn = await server.connectOutbound(`127.0.0.1:${app.port};transport=tls`);
    expect(conn.secure).toBe(true);
    await eventually(() => app.connects.length === 1 && app.connects[0] === null);
    const untrusting = new WireServer({ host: '127.0.0.1', port: 0, secret: 'cymru', hostports: () => HOSTPORTS });
    servers.push(untrusting);
    await expect(untrusting.connectOutbound(`127.0.0.1:${app.port};transport=tls`)).rejects.toThrow(/cannot connect/);
  });

  it('rejects when the app presents another secret or cannot be reached', async () => {
    const { server } = await startServer();
    const app = await listeningSrf('other');
    await expect(server.connectOutbound(`127.0.0.1:${app.port}`)).rejects.toThrow(/closed before authenticate/);
    await expect(server.connectOutbound('127.0.0.1:1;transport=tcp')).rejects.toThrow(/cannot connect/);
    await expect(server.connectOutbound('no-port-here')).rejects.toThrow(/host:port/);
  });
});
