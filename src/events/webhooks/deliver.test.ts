import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from './deliver.js';
import { allowListOf } from './ip-ranges.js';
import type { Resolver } from './webhook-target.js';

/** A loopback receiver whose answer each test chooses by path; it records what it was sent. */
let server: Server;
let port: number;
const received: Array<{ path: string; host: string | undefined; body: string; headers: IncomingMessage['headers'] }> = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', host: req.headers.host, body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end('moved');
      else if (req.url === '/big') res.writeHead(200).end('x'.repeat(10_000));
      else if (req.url === '/fail') res.writeHead(503).end('down for maintenance');
      else if (req.url === '/hang') return; // never answers
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const loopbackAllowed = allowListOf([{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }]);
const req = { headers: { 'content-type': 'application/json', 'x-custom': 'yes' }, body: '{"id":"e1"}', timeoutMs: 2000 };
/** Every name resolves to `address`: what a DNS rebinding attacker would arrange. */
const resolvesTo = (address: string): Resolver => async () => [{ address, family: address.includes(':') ? 6 : 4 }];

describe('delivery: one attempt to a checked, pinned address', () => {
  it('posts the exact body to an allow-listed loopback receiver and keeps a capped excerpt', async () => {
    const r = await attemptDelivery(`http://127.0.0.1:${port}/big`, req, { allow: loopbackAllowed });
    expect(r).toMatchObject({ ok: true, statusCode: 200, error: null, address: '127.0.0.1', refused: false });
    expect(r.excerpt).toHaveLength(1024);
    expect(received.at(-1)).toMatchObject({ path: '/big', body: '{"id":"e1"}' });
    expect(received.at(-1)?.headers['x-custom']).toBe('yes');
  });

  it('connects to the address it checked, with the URL’s host in the Host header', async () => {
    const r = await attemptDelivery(`http://receiver.test:${port}/ok`, req, { allow: loopbackAllowed, resolve: resolvesTo('127.0.0.1') });
    expect(r).toMatchObject({ ok: true, statusCode: 200, excerpt: 'ok', address: '127.0.0.1' });
    expect(received.at(-1)?.host).toBe(`receiver.test:${port}`);
  });

  it('refuses a name that resolves to a private address now, without connecting', async () => {
    const before = received.length;
    const r = await attemptDelivery(`https://hooks.example.com:${port}/ok`, req, { resolve: resolvesTo('10.0.0.7') });
    expect(r).toMatchObject({ ok: false, refused: true, address: null, statusCode: null });
    expect(r.error).toMatch(/resolves to 10\.0\.0\.7.*private/);
    // The same name pointed at loopback (rebinding to the receiver) is refused too.
    expect((await attemptDelivery(`https://hooks.example.com:${port}/ok`, req, { resolve: resolvesTo('127.0.0.1') })).refused).toBe(true);
    expect(received.length).toBe(before);
  });

  it('does not follow a redirect: a 3xx is a failed attempt, and the Location is never requested', async () => {
    const before = received.length;
    const r = await attemptDelivery(`http://127.0.0.1:${port}/redirect`, req, { allow: loopbackAllowed });
    expect(r).toMatchObject({ ok: false, statusCode: 302, error: 'redirect (302) not followed', excerpt: 'moved', refused: false });
    expect(received.length).toBe(before + 1);
  });

  it('refuses the same loopback receiver when the allow-list does not name it', async () => {
    const before = received.length;
    for (const url of [`http://127.0.0.1:${port}/redirect`, `https://127.0.0.1:${port}/ok`, `http://[::ffff:127.0.0.1]:${port}/ok`, `http://localhost:${port}/ok`]) {
      const r = await attemptDelivery(url, req, {});
      expect(r, url).toMatchObject({ ok: false, refused: true, address: null });
    }
    expect(received.length).toBe(before);
  });

  it('reports a non-2xx answer, a timeout and a refused connection as failed attempts', async () => {
    expect(await attemptDelivery(`http://127.0.0.1:${port}/fail`, req, { allow: loopbackAllowed })).toMatchObject({ ok: false, statusCode: 503, error: 'HTTP 503', excerpt: 'down for maintenance' });
    const hung = await attemptDelivery(`http://127.0.0.1:${port}/hang`, { ...req, timeoutMs: 150 }, { allow: loopbackAllowed });
    expect(hung).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 150 ms' });
    expect(hung.durationMs).toBeGreaterThanOrEqual(140);
    const closed = await attemptDelivery('http://127.0.0.1:1/x', req, { allow: loopbackAllowed });
    expect(closed).toMatchObject({ ok: false, statusCode: null, error: 'ECONNREFUSED' });
  });
});
