import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { REPLAYED_HEADER } from './idempotency.js';
import { defineRoute, registerRoute } from './route-registry.js';
import { body, testApi } from './test-helpers.js';

const createRoute = defineRoute({
  method: 'post',
  path: '/api/v1/things',
  scope: 'voip:write',
  request: { body: { content: { 'application/json': { schema: z.object({ name: z.string() }) } } } },
  responses: { 201: { description: 'created', content: { 'application/json': { schema: z.object({ data: z.unknown() }) } } } },
});

/** An app whose create handler counts executions and can be held open to test concurrency. */
function setup() {
  // Stands in for auth: the tenant comes from a header.
  const t = testApi({
    auth: async (c, next) => {
      c.set('tenantId', c.req.header('x-test-tenant') ?? 't1');
      await next();
    },
  });
  let executions = 0;
  let gate: Promise<void> | undefined;
  let failNext = false;
  registerRoute(t.app, createRoute, async (c) => {
    executions += 1;
    if (gate) await gate;
    if (failNext) {
      failNext = false;
      throw new Error('db down');
    }
    const { name } = c.req.valid('json');
    return c.json({ data: { id: `thing-${executions}`, name, at: Math.random() } }, 201);
  });
  return {
    ...t,
    executions: () => executions,
    hold: () => {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    failNext: () => (failNext = true),
  };
}

const req = (name: string, key?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
  body: JSON.stringify({ name }),
});

describe('Idempotency-Key', () => {
  it('replays the first response byte-for-byte without executing again', async () => {
    const s = setup();
    const first = await s.app.request('/api/v1/things', req('a', 'k1'));
    const firstText = await first.text();
    const second = await s.app.request('/api/v1/things', req('a', 'k1'));
    expect(second.status).toBe(201);
    expect(await second.text()).toBe(firstText);
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get(REPLAYED_HEADER)).toBe('true');
    expect(second.headers.get('X-Request-ID')).not.toBe(first.headers.get('X-Request-ID'));
    expect(s.executions()).toBe(1);
  });

  it('answers the same key with a different body 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const s = setup();
    await s.app.request('/api/v1/things', req('a', 'k1'));
    const res = await s.app.request('/api/v1/things', req('b', 'k1'));
    expect(res.status).toBe(422);
    expect((await body(res)).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(s.executions()).toBe(1);
  });

  it('answers a concurrent duplicate 409 CONFLICT', async () => {
    const s = setup();
    const release = s.hold();
    const first = s.app.request('/api/v1/things', req('a', 'k1'));
    await new Promise((r) => setTimeout(r, 10));
    const dup = await s.app.request('/api/v1/things', req('a', 'k1'));
    expect(dup.status).toBe(409);
    expect((await body(dup)).error.code).toBe('CONFLICT');
    release();
    expect((await first).status).toBe(201);
    expect(s.executions()).toBe(1);
  });

  it('runs requests without a key, or with different keys, every time', async () => {
    const s = setup();
    await s.app.request('/api/v1/things', req('a'));
    await s.app.request('/api/v1/things', req('a'));
    await s.app.request('/api/v1/things', req('a', 'k1'));
    await s.app.request('/api/v1/things', req('a', 'k2'));
    expect(s.executions()).toBe(4);
  });

  it('releases the key when the first attempt fails, so a retry executes', async () => {
    const s = setup();
    s.failNext();
    expect((await s.app.request('/api/v1/things', req('a', 'k1'))).status).toBe(500);
    expect((await s.app.request('/api/v1/things', req('a', 'k1'))).status).toBe(201);
    expect(s.executions()).toBe(2);
  });

  it('stores validation failures too (a replay of a bad request is the same 400)', async () => {
    const s = setup();
    const bad = { method: 'POST', headers: { 'content-type': 'application/json', 'Idempotency-Key': 'k9' }, body: '{}' };
    const first = await s.app.request('/api/v1/things', bad);
    const second = await s.app.request('/api/v1/things', bad);
    expect(first.status).toBe(400);
    expect(second.headers.get(REPLAYED_HEADER)).toBe('true');
  });

  it('scopes keys by tenant: the same key in another tenant executes', async () => {
    const s = setup();
    const inTenant = (tenant: string) => {
      const r = req('a', 'k1');
      return { ...r, headers: { ...r.headers, 'x-test-tenant': tenant } };
    };
    const a = await body(await s.app.request('/api/v1/things', inTenant('t1')));
    const b = await body(await s.app.request('/api/v1/things', inTenant('t2')));
    expect(a.data.id).not.toBe(b.data.id);
    expect(s.executions()).toBe(2);
  });

  it('never stores a no-store response (it holds secrets shown once): a repeat executes again', async () => {
    const t = testApi({ auth: async (c, next) => { c.set('tenantId', 't1'); await next(); } });
    let n = 0;
    registerRoute(t.app, createRoute, (c) => {
      n += 1;
      c.header('Cache-Control', 'no-store');
      return c.json({ data: { secret: `token-${n}` } }, 201);
    });
    const send = () => t.app.request('/api/v1/things', { method: 'POST', headers: { 'content-type': 'application/json', 'Idempotency-Key': 'k' }, body: '{"name":"a"}' });
    expect((await body(await send())).data.secret).toBe('token-1');
    const again = await send();
    expect(again.headers.get(REPLAYED_HEADER)).toBeNull();
    expect((await body(again)).data.secret).toBe('token-2');
  });

  it('rejects a malformed key naming the header', async () => {
    const s = setup();
    const res = await s.app.request('/api/v1/things', req('a', 'has space'));
    expect(res.status).toBe(400);
    expect((await body(res)).error.details[0].field).toBe('Idempotency-Key');
  });
});
