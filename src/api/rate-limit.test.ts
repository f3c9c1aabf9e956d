import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { FakeClock } from '../../test/support/fake-clock.js';
import type { ApiEnv } from './env.js';
import { rateLimit } from './rate-limit.js';
import { body, testApi } from './test-helpers.js';

function setup() {
  const t = testApi({ rateLimit: { capacity: 3, refillPerSecond: 1 } });
  t.app.get('/api/v1/ping', (c) => c.json({ data: 'pong' }));
  return t;
}

describe('rate limit', () => {
  it('reports limit, remaining and reset on every response', async () => {
    const { app } = setup();
    const res = await app.request('/api/v1/ping');
    expect(res.status).toBe(200);
    expect(res.headers.get('X-RateLimit-Limit')).toBe('3');
    expect(res.headers.get('X-RateLimit-Remaining')).toBe('2');
    expect(res.headers.get('X-RateLimit-Reset')).toBe('1');
  });

  it('answers 429 RATE_LIMITED with retry_after once the bucket is empty, and refills with time', async () => {
    const { app, clock } = setup();
    for (let i = 0; i < 3; i++) expect((await app.request('/api/v1/ping')).status).toBe(200);
    const limited = await app.request('/api/v1/ping');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('X-RateLimit-Remaining')).toBe('0');
    expect(limited.headers.get('Retry-After')).toBe('1');
    const b = await body(limited);
    expect(b.error).toMatchObject({ code: 'RATE_LIMITED', retry_after: 1 });
    expect(b.request_id).toBe(limited.headers.get('X-Request-ID'));

    clock.advance(1000);
    expect((await app.request('/api/v1/ping')).status).toBe(200);
    expect((await app.request('/api/v1/ping')).status).toBe(429);
  });

  it('keeps one bucket per key', async () => {
    const clock = new FakeClock();
    const app = new Hono<ApiEnv>();
    app.use(rateLimit({ capacity: 1, refillPerSecond: 1, clock, keyOf: (c) => c.req.header('x-key') ?? '-' }));
    app.get('/', (c) => c.text('ok'));
    const as = (key: string) => app.request('/', { headers: { 'x-key': key } });
    expect((await as('a')).status).toBe(200);
    expect((await as('a')).status).toBe(429);
    expect((await as('b')).status).toBe(200);
  });

  it('does not limit health probes', async () => {
    const { app } = setup();
    for (let i = 0; i < 10; i++) expect((await app.request('/api/live')).status).toBe(200);
  });
});
