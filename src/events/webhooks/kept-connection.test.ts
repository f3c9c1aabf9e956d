/**
 * The delivery threads' kept-alive connection: the same outcomes as the one-shot pinned
 * request — pinned to the checked address with the URL's name for Host, SNI and the certificate
 * check; no redirect followed; a capped excerpt; timeouts and refusals as failed attempts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerLines } from './header-lines.js';
import { KeptConnection, requestHead } from './kept-connection.js';
import { startTlsReceiver } from './tls-receiver.fixture.js';
import type { WebhookTarget } from './webhook-target.js';

let server: Server;
let port: number;
const received: Array<{ path: string; host: string | undefined; body: string }> = [];
let tls: Awaited<ReturnType<typeof startTlsReceiver>>;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', host: req.headers.host, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end('moved');
      else if (req.url === '/big') res.writeHead(200).end('x'.repeat(100_000));
      else if (req.url === '/fail') res.writeHead(503).end('down for maintenance');
      else if (req.url === '/hang') return;
      else if (req.url === '/stall') res.writeHead(200).write('partial'); // the head, then the body stops
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;

  tls = await startTlsReceiver();
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  tls.close();
});

/** A checked target: the URL as given, connected to `address` whatever its host says. */
const target = (url: string, address = '127.0.0.1'): WebhookTarget => {
  const u = new URL(url);
  return { url: u, hostname: u.hostname, address, family: 4 };
};
const body = Buffer.from('{"id":"e1"}');
/** A connection to `t` (timeout 2 s unless given). */
const open = (t: WebhookTarget, opts: { timeoutMs?: number; ca?: string; onConnect?: () => void; idleMs?: number } = {}) => new KeptConnection(t, opts.timeoutMs ?? 2000, opts);
/** POSTs the test body to `t`'s path over `c`. */
const post = (c: KeptConnection, t: WebhookTarget) => c.send(requestHead(t, headerLines(['content-type', 'application/json']), body.length), body);

describe('kept-alive delivery connection (delivery threads)', () => {
  it('connects to the checked address with the URL’s host in the Host header, over one kept connection', async () => {
    const t = target(`http://hooks.example.com:${port}/ok`);
    let opened = 0;
    const c = open(t, { onConnect: () => opened++ });
    for (let i = 0; i < 3; i++) expect(await post(c, t)).toMatchObject({ ok: true, statusCode: 200, excerpt: 'ok', error: null });
    expect(received.at(-1)).toEqual({ path: '/ok', host: `hooks.example.com:${port}`, body: '{"id":"e1"}' });
    expect(opened).toBe(1);
    // The receiver drops the idle connection: the next attempt still succeeds, on a new one.
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect(await post(c, t)).toMatchObject({ ok: true, statusCode: 200 });
    expect(opened).toBe(2);
    c.close();
  });

  it('does not follow a redirect, keeps at most 1 KB of an answer, and reports 5xx, timeouts and refusals as failed attempts', async () => {
    const at = (path: string) => target(`http://127.0.0.1:${port}${path}`);
    const c = open(at('/'));
    const before = received.length;
    expect(await post(c, at('/redirect'))).toMatchObject({ ok: false, statusCode: 302, error: 'redirect (302) not followed', excerpt: 'moved' });
    expect(received.slice(before).map((r) => r.path)).toEqual(['/redirect']);
    const big = await post(c, at('/big'));
    expect(big).toMatchObject({ ok: true, statusCode: 200 });
    expect(big.excerpt).toHaveLength(1024);
    expect(await post(c, at('/fail'))).toMatchObject({ ok: false, statusCode: 503, error: 'HTTP 503', excerpt: 'down for maintenance' });
    c.close();
    const quick = open(at('/'), { timeoutMs: 150 });
    const hung = await post(quick, at('/hang'));
    expect(hung).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 150 ms' });
    expect(hung.durationMs).toBeGreaterThanOrEqual(140);
    // A pause in the body is bounded too (and the 200 already received does not make it a success).
    expect(await post(quick, at('/stall'))).toMatchObject({ ok: false, statusCode: null, excerpt: null, error: 'timed out after 150 ms' });
    quick.close();
    const refused = target('http://127.0.0.1:1/x');
    let opened = 0;
    const nowhere = open(refused, { onConnect: () => opened++ });
    expect(await post(nowhere, refused)).toMatchObject({ ok: false, statusCode: null, error: 'ECONNREFUSED' });
    expect(opened).toBe(1);
    nowhere.close();
  });

  it('over TLS: the URL’s name is the SNI and what the certificate is checked against, while the socket goes to the checked address', async () => {
    const good = target(`https://receiver.test:${tls.port}/hook`);
    const c = open(good, { ca: tls.cert.toString() });
    expect(await post(c, good)).toMatchObject({ ok: true, statusCode: 204 });
    expect(tls.servernames.at(-1)).toBe('receiver.test');
    c.close();
    const wrongName = target(`https://other.test:${tls.port}/hook`);
    const c2 = open(wrongName, { ca: tls.cert.toString() });
    expect(await post(c2, wrongName)).toMatchObject({ ok: false, statusCode: null, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    c2.close();
    const c3 = open(good);
    const untrusted = await post(c3, good);
    expect(untrusted.ok).toBe(false);
    expect(untrusted.error).toMatch(/SELF_SIGNED|CERT/);
    c3.close();
  });

  it('makes the attempt once more when the connection is closed under it before any answer, and only once', async () => {
    // A receiver that drops the first `drops` connections as soon as a request arrives: what a
    // kept-alive connection closed by the receiver at the moment we reuse it looks like.
    const closing = async (drops: number) => {
      let seen = 0;
      const srv = createTcpServer((socket) => {
        const mine = seen++;
        socket.once('data', () => (mine < drops ? socket.destroy() : socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')));
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      return { srv, t: target(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`), connections: () => seen };
    };
    const once = await closing(1);
    const c = open(once.t);
    expect(await post(c, once.t)).toMatchObject({ ok: true, statusCode: 200, excerpt: 'ok' });
    expect(once.connections()).toBe(2);
    c.close();
    once.srv.close();
    const always = await closing(Infinity);
    const c2 = open(always.t);
    expect(await post(c2, always.t)).toMatchObject({ ok: false, statusCode: null, error: 'closed before an answer' });
    expect(always.connections()).toBe(2);
    c2.close();
    always.srv.close();
  });

  it('sends queued requests one at a time, and opens a new connection after Connection: close, and an answer it cannot read; a header with a line break is refused', async () => {
    // Each connection answers its requests from a script, one per request, in order.
    const scripts = [
      ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nc'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nd'],
      ['HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\ne'],
    ];
    const requests: number[] = [];
    let connections = 0;
    const srv = createTcpServer((socket) => {
      const mine = connections++;
      const script = scripts[mine] ?? [];
      let n = 0;
      let seen = '';
      socket.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        // Answer each complete request (head and its 11-byte body) in turn.
        for (let end = seen.indexOf('\r\n\r\n'); end >= 0 && seen.length >= end + 4 + body.length; end = seen.indexOf('\r\n\r\n')) {
          seen = seen.slice(end + 4 + body.length);
          requests.push(mine);
          socket.write(script[n++] ?? 'HTTP/1.1 500 Unscripted\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const t = target(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`);
    const c = open(t);
    const answers = await Promise.all([post(c, t), post(c, t), post(c, t), post(c, t), post(c, t)]);
    expect(answers.map((a) => [a.ok, a.statusCode, a.excerpt, a.error])).toEqual([
      [true, 200, 'a', null],
      [true, 200, 'b', null],
      [true, 200, 'c', null],
      [false, null, null, 'malformed answer: bad content-length'],
      [true, 201, 'e', null],
    ]);
    // Never two requests on the wire at once: each connection saw its requests one after another.
    expect(requests).toEqual([0, 0, 0, 1, 2]);
    // A header that would split the head is never written (the delivery records a failed attempt).
    expect(() => headerLines(['x-custom', 'a\r\nhost: evil'])).toThrow('header "x-custom" holds a line break');
    c.close();
    srv.close();
  });

  it('reads an answer framed by the end of the connection, and sends the next request on a new one', async () => {
    let connections = 0;
    const srv = createTcpServer((socket) => {
      connections++;
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end'));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const t = target(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`);
    const c = open(t);
    expect(await post(c, t)).toMatchObject({ ok: true, statusCode: 200, excerpt: 'until the end', error: null });
    expect(await post(c, t)).toMatchObject({ ok: true, statusCode: 200, excerpt: 'until the end', error: null });
    expect(connections).toBe(2);
    c.close();
    srv.close();
  });

  it('closes a connection left unused for its idle time (before a receiver’s keep-alive timeout could race a request), and opens a new one when needed', async () => {
    let closedByUs = 0;
    let connections = 0;
    const srv = createTcpServer((socket) => {
      connections++;
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      socket.on('end', () => closedByUs++);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const t = target(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`);
    const c = open(t, { idleMs: 100 });
    expect(await post(c, t)).toMatchObject({ ok: true });
    expect(await post(c, t)).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 300));
    expect({ connections, closedByUs }).toEqual({ connections: 1, closedByUs: 1 });
    expect(await post(c, t)).toMatchObject({ ok: true });
    expect(connections).toBe(2);
    c.close();
    srv.close();
  });
});
