/**
 * The delivery threads' kept-alive requests (undici): the same outcomes as the one-shot pinned
 * request — pinned to the checked address with the URL's name for Host, SNI and the certificate
 * check; no redirect followed; a capped excerpt; timeouts and refusals as failed attempts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPinnedPool, postPooled } from './pooled-request.js';
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
const req = { headers: { 'content-type': 'application/json' }, body: '{"id":"e1"}', timeoutMs: 2000 };

describe('pooled delivery request (delivery threads)', () => {
  it('connects to the checked address with the URL’s host in the Host header, over one kept connection', async () => {
    const t = target(`http://hooks.example.com:${port}/ok`);
    let opened = 0;
    const pool = openPinnedPool(t, { onConnect: () => opened++ });
    for (let i = 0; i < 3; i++) expect(await postPooled(pool, t, req)).toMatchObject({ ok: true, statusCode: 200, excerpt: 'ok', error: null });
    expect(received.at(-1)).toEqual({ path: '/ok', host: `hooks.example.com:${port}`, body: '{"id":"e1"}' });
    expect(opened).toBe(1);
    // The receiver drops the idle connection: the next attempt still succeeds, on a new one.
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect(await postPooled(pool, t, req)).toMatchObject({ ok: true, statusCode: 200 });
    expect(opened).toBe(2);
    await pool.destroy();
  });

  it('does not follow a redirect, keeps at most 1 KB of an answer, and reports 5xx, timeouts and refusals as failed attempts', async () => {
    const at = (path: string) => target(`http://127.0.0.1:${port}${path}`);
    const pool = openPinnedPool(at('/'));
    const before = received.length;
    expect(await postPooled(pool, at('/redirect'), req)).toMatchObject({ ok: false, statusCode: 302, error: 'redirect (302) not followed', excerpt: 'moved' });
    expect(received.slice(before).map((r) => r.path)).toEqual(['/redirect']);
    const big = await postPooled(pool, at('/big'), req);
    expect(big).toMatchObject({ ok: true, statusCode: 200 });
    expect(big.excerpt).toHaveLength(1024);
    expect(await postPooled(pool, at('/fail'), req)).toMatchObject({ ok: false, statusCode: 503, error: 'HTTP 503', excerpt: 'down for maintenance' });
    const hung = await postPooled(pool, at('/hang'), { ...req, timeoutMs: 150 });
    expect(hung).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 150 ms' });
    expect(hung.durationMs).toBeGreaterThanOrEqual(140);
    // A pause in the body is bounded too (and the 200 already received does not make it a success).
    expect(await postPooled(pool, at('/stall'), { ...req, timeoutMs: 150 })).toMatchObject({ ok: false, statusCode: null, excerpt: null, error: 'timed out after 150 ms' });
    await pool.destroy();
    const refused = target('http://127.0.0.1:1/x');
    const nowhere = openPinnedPool(refused);
    expect(await postPooled(nowhere, refused, req)).toMatchObject({ ok: false, statusCode: null, error: 'ECONNREFUSED' });
    await nowhere.destroy();
  });

  it('over TLS: the URL’s name is the SNI and what the certificate is checked against, while the socket goes to the checked address', async () => {
    const good = target(`https://receiver.test:${tls.port}/hook`);
    const pool = openPinnedPool(good, { ca: tls.cert.toString() });
    expect(await postPooled(pool, good, req)).toMatchObject({ ok: true, statusCode: 204 });
    expect(tls.servernames.at(-1)).toBe('receiver.test');
    await pool.destroy();
    const wrongName = target(`https://other.test:${tls.port}/hook`);
    const p2 = openPinnedPool(wrongName, { ca: tls.cert.toString() });
    expect(await postPooled(p2, wrongName, req)).toMatchObject({ ok: false, statusCode: null, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await p2.destroy();
    const p3 = openPinnedPool(good);
    const untrusted = await postPooled(p3, good, req);
    expect(untrusted.ok).toBe(false);
    expect(untrusted.error).toMatch(/SELF_SIGNED|CERT/);
    await p3.destroy();
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
    const pool = openPinnedPool(once.t);
    expect(await postPooled(pool, once.t, req)).toMatchObject({ ok: true, statusCode: 200, excerpt: 'ok' });
    expect(once.connections()).toBe(2);
    await pool.destroy();
    once.srv.close();
    const always = await closing(Infinity);
    const p2 = openPinnedPool(always.t);
    expect(await postPooled(p2, always.t, req)).toMatchObject({ ok: false, statusCode: null, error: 'UND_ERR_SOCKET' });
    expect(always.connections()).toBe(2);
    await p2.destroy();
    always.srv.close();
  });
});
