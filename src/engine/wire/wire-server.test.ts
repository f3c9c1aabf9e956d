/**
 * WireServer over real sockets on 127.0.0.1, driven by a hand-written client that speaks the raw
 * framing, so every refusal path and malformed input can be exercised (srf never sends those).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientConnection } from './client-connection.js';
import { FrameDecoder, encodeFrame } from './framing.js';
import { requestEcho, type ProxyCommand, type SipCommand } from './meta.js';
import type { WireHandler } from './types.js';
import { WireServer, type WireServerOptions } from './wire-server.js';

const HOSTPORTS = { external: 'udp/203.0.113.5:5060,tcp/203.0.113.5:5060', local: 'udp/10.0.0.5:5060,tcp/10.0.0.5:5060' };

class RecordingHandler implements WireHandler {
  sips: { client: ClientConnection; cmd: SipCommand }[] = [];
  proxies: { client: ClientConnection; cmd: ProxyCommand }[] = [];
  closed: ClientConnection[] = [];
  authenticated: ClientConnection[] = [];
  onSip(client: ClientConnection, cmd: SipCommand): void {
    this.sips.push({ client, cmd });
  }
  onProxy(client: ClientConnection, cmd: ProxyCommand): void {
    this.proxies.push({ client, cmd });
  }
  onClientClosed(client: ClientConnection): void {
    this.closed.push(client);
  }
  onClientAuthenticated(client: ClientConnection): void {
    this.authenticated.push(client);
  }
}

/** A minimal admin client: writes frames, collects decoded replies, notices closure. */
class RawClient {
  readonly frames: string[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];
  private n = 0;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.decoder.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Sends `<id>|<body>` and returns the id. */
  send(body: string): string {
    const id = `id${++this.n}`;
    this.socket.write(encodeFrame(`${id}|${body}`));
    return id;
  }

  /** Resolves with the first reply frame to `id`. */
  async reply(id: string): Promise<string[]> {
    const find = (): string | undefined => this.frames.find((f) => f.split('|')[2] === id);
    await this.until(() => find() !== undefined);
    return (find() as string).split('|');
  }

  async until(cond: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }

  async authenticate(secret = 'cymru', tags = ''): Promise<string[]> {
    return this.reply(this.send(`authenticate|${secret}|${tags}`));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const servers: WireServer[] = [];
const clients: RawClient[] = [];

async function setup(extra: Partial<WireServerOptions> = {}) {
  const handler = new RecordingHandler();
  const server = new WireServer({ host: '127.0.0.1', port: 0, secret: 'cymru', hostports: () => HOSTPORTS, handler, ...extra });
  servers.push(server);
  const { port, tlsPort } = await server.start();
  const client = async (): Promise<RawClient> => {
    const c = await RawClient.connect(port);
    clients.push(c);
    return c;
  };
  return { server, handler, port, tlsPort, client };
}

async function eventually(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('WireServer: authentication', () => {
  it('answers OK|hostports|version|localHostports', async () => {
    const { client, handler, server } = await setup();
    const c = await client();
    const reply = await c.authenticate('cymru', 'a,b');
    expect(reply).toHaveLength(7);
    expect(reply.slice(1)).toEqual(['response', 'id1', 'OK', HOSTPORTS.external, 'v1.0.0', HOSTPORTS.local]);
    expect(handler.authenticated).toHaveLength(1);
    expect(handler.authenticated[0]!.tags).toEqual(['a', 'b']);
    expect(server.clients()[0]!.authenticated).toBe(true);
  });

  it('refuses an incorrect secret and closes the socket', async () => {
    const { client, server } = await setup();
    const c = await client();
    expect((await c.authenticate('wrong')).slice(3)).toEqual(['NO', 'incorrect secret']);
    await c.until(() => c.closed);
    await eventually(() => server.clients().length === 0);
  });

  it('refuses invalid tags', async () => {
    const { client } = await setup();
    const c = await client();
    expect((await c.authenticate('cymru', 'bad tag!'))[3]).toBe('NO');
    await c.until(() => c.closed);
    const d = await client();
    expect((await d.authenticate('cymru', Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')))[3]).toBe('NO');
  });

  it('refuses clients while the SIP transports cannot be listed', async () => {
    const { client } = await setup({ hostports: () => { throw new Error('transports not up'); } });
    const c = await client();
    expect((await c.authenticate()).slice(3)).toEqual(['NO', 'server not ready']);
    await c.until(() => c.closed);
  });

  it('refuses commands before authenticate', async () => {
    const { client } = await setup();
    const c = await client();
    const id = c.send('route|invite');
    expect((await c.reply(id))[3]).toBe('NO');
    await c.until(() => c.closed);
  });

  it('closes connections that never authenticate', async () => {
    const { client } = await setup({ authTimeoutMs: 100 });
    const c = await client();
    await c.until(() => c.closed, 2000);
  });

  it('insists on a version srf will ping (vX.Y.Z >= v0.8.2) and a secret', () => {
    const base = { host: '127.0.0.1', port: 0, secret: 's', hostports: () => HOSTPORTS };
    expect(() => new WireServer({ ...base, version: 'v0.8.1' })).toThrow(/v0.8.2/);
    expect(() => new WireServer({ ...base, version: '1.2.3' })).toThrow(/v0.8.2/);
    expect(() => new WireServer({ ...base, version: 'v0.8.2' })).not.toThrow();
    expect(() => new WireServer({ ...base, version: 'v0.10.0-3-gabc' })).not.toThrow();
    expect(() => new WireServer({ ...base, secret: '' })).toThrow(/secret/);
  });
});

describe('WireServer: admin commands', () => {
  it('ping gets OK|pong', async () => {
    const { client } = await setup();
    const c = await client();
    await c.authenticate();
    expect((await c.reply(c.send('ping'))).slice(3)).toEqual(['OK', 'pong']);
  });

  it('de-duplicates routes, lowercases verbs, and removes only the named verb', async () => {
    const { client, server } = await setup();
    const c = await client();
    await c.authenticate();
    for (const verb of ['invite', 'INVITE', 'register', 'invite', 'cdr:stop']) {
      expect((await c.reply(c.send(`route|${verb}`))).slice(3)).toEqual(['OK']);
    }
    const conn = server.clients()[0]!;
    expect([...conn.verbs]).toEqual(['invite', 'register', 'cdr:stop']);
    expect(server.clientsFor('INVITE')).toEqual([conn]);
    await c.reply(c.send('remove_route|register'));
    expect([...conn.verbs]).toEqual(['invite', 'cdr:stop']);
    expect(server.clientsFor('register')).toEqual([]);
    expect(server.pickClient('invite')).toBe(conn);
  });

  it('answers an unknown command NO|Unknown message type and disconnects', async () => {
    const { client } = await setup();
    const c = await client();
    await c.authenticate();
    expect((await c.reply(c.send('frobnicate|x'))).slice(3)).toEqual(['NO', 'Unknown message type']);
    await c.until(() => c.closed);
  });

  it('answers a malformed known command NOK and stays connected', async () => {
    const { client } = await setup();
    const c = await client();
    await c.authenticate();
    expect((await c.reply(c.send('sip|T1|')))[3]).toBe('NOK');
    expect((await c.reply(c.send('ping')))[4]).toBe('pong');
  });

  it('survives garbage framing: the offender is closed, others carry on', async () => {
    const { client, port } = await setup();
    const good = await client();
    await good.authenticate();
    const bad = await client();
    bad.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await bad.until(() => bad.closed);
    const worse = await client();
    worse.socket.write(Buffer.from([0xff, 0xfe, 0x00, 0x23]));
    await worse.until(() => worse.closed);
    expect((await good.reply(good.send('ping')))[4]).toBe('pong');
    const again = await RawClient.connect(port);
    clients.push(again);
    expect((await again.authenticate())[3]).toBe('OK');
  });

  it('handles commands that arrive before the garbage in the same chunk', async () => {
    const { client, server } = await setup();
    const c = await client();
    c.socket.write(Buffer.concat([encodeFrame('a1|authenticate|cymru|'), encodeFrame('a2|route|invite'), Buffer.from('xx')]));
    await c.until(() => c.closed);
    expect(c.frames.map((f) => f.split('|').slice(2, 4))).toEqual([['a1', 'OK'], ['a2', 'OK']]);
    expect(server.clientsFor('invite')).toEqual([]);
  });
});

describe('WireServer: sip and proxy hand-over', () => {
  const sipText = 'OPTIONS sip:bob@127.0.0.1:5080 SIP/2.0\r\nContent-Length: 0\r\n\r\n';

  it('hands sip commands to the handler; replies go out in order through client.send', async () => {
    const { client, handler } = await setup();
    const c = await client();
    await c.authenticate();
    const id = c.send(`sip||\r\n${sipText}`);
    await eventually(() => handler.sips.length === 1);
    const { client: conn, cmd } = handler.sips[0]!;
    expect(cmd).toEqual({ type: 'sip', msgId: id, transactionId: '', dialogId: '', sip: sipText });
    for (let i = 0; i < 50; i++) {
      conn.send(requestEcho(`x${i}`, { protocol: 'udp', localHost: '127.0.0.1', localPort: 5060, transactionId: `T${i}` }, sipText));
    }
    await c.until(() => c.frames.length === 51);
    expect(c.frames.slice(1).map((f) => f.split('|')[2])).toEqual(Array.from({ length: 50 }, (_, i) => `x${i}`));
  });

  it('hands proxy commands to the handler', async () => {
    const { client, handler } = await setup();
    const c = await client();
    await c.authenticate();
    c.send('proxy|T9|remainInDialog|fullResponse||serial|||sip:127.0.0.1:5080\r\nINVITE sip:127.0.0.1:5080 SIP/2.0\r\n\r\n');
    await eventually(() => handler.proxies.length === 1);
    expect(handler.proxies[0]!.cmd).toMatchObject({ transactionId: 'T9', remainInDialog: true, destinations: ['sip:127.0.0.1:5080'] });
  });

  it('answers NOK when the handler throws or is missing', async () => {
    const { client, server } = await setup();
    server.setHandler({
      onSip() { throw new Error('boom'); },
      onProxy() {},
      onClientClosed() {},
    });
    const c = await client();
    await c.authenticate();
    expect((await c.reply(c.send(`sip||\r\n${sipText}`))).slice(3)).toEqual(['NOK', 'internal server error']);
    const bare = new WireServer({ host: '127.0.0.1', port: 0, secret: 'cymru', hostports: () => HOSTPORTS });
    servers.push(bare);
    const d = await RawClient.connect((await bare.start()).port);
    clients.push(d);
    await d.authenticate();
    expect((await d.reply(d.send(`sip||\r\n${sipText}`)))[3]).toBe('NOK');
  });
});

describe('WireServer: routing and closure', () => {
  it('round-robins among clients, honours tags, and drops routes of closed clients at once', async () => {
    const { client, server, handler } = await setup();
    const a = await client();
    const b = await client();
    await a.authenticate('cymru', 'blue');
    await b.authenticate('cymru', 'green,blue');
    await a.reply(a.send('route|invite'));
    await b.reply(b.send('route|invite'));
    const [ca, cb] = server.clientsFor('invite');
    const picks = Array.from({ length: 4 }, () => server.pickClient('INVITE'));
    expect(picks).toEqual([ca, cb, ca, cb]);
    expect(server.pickClient('invite', 'green')).toBe(cb);
    expect(server.pickClient('invite', 'green')).toBe(cb);
    expect(new Set([server.pickClient('invite', 'blue'), server.pickClient('invite', 'blue')])).toEqual(new Set([ca, cb]));
    expect(server.pickClient('invite', 'red')).toBeUndefined();
    expect(server.pickClient('register')).toBeUndefined();

    b.socket.destroy();
    await eventually(() => handler.closed.length === 1);
    expect(handler.closed[0]).toBe(cb);
    expect(cb!.closed).toBe(true);
    expect(cb!.send('x')).toBe(false);
    expect(server.clientsFor('invite')).toEqual([ca]);
    expect(server.pickClient('invite', 'green')).toBeUndefined();
  });

  it('stop() disconnects everyone and reports closures', async () => {
    const { client, server, handler } = await setup();
    const a = await client();
    await a.authenticate();
    await server.stop();
    await a.until(() => a.closed);
    expect(handler.closed).toHaveLength(1);
  });
});

describe('WireServer: TLS admin port', () => {
  it('serves the same protocol over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wire-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const { server: tlsServer, tlsPort } = await setup({ tlsPort: 0, tls: { key, cert } });
    expect(tlsPort).toBeGreaterThan(0);
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: tlsPort!, ca: cert, servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new RawClient(socket);
    clients.push(c);
    expect((await c.authenticate())[3]).toBe('OK');
    expect(tlsServer.clients()[0]!.secure).toBe(true);
  });
});
