import { z } from '@hono/zod-openapi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createApiKey, createTenant, migrateToLatest, openDatabase, revokeApiKey, type Store } from '../store/index.js';
import { KEY_CACHE_TTL_MS, apiKeyAuth, type ApiKeyAuthOptions } from './api-key-auth.js';
import { defineRoute, registerRoute } from './route-registry.js';
import { SqliteIdempotencyStore } from './sqlite-idempotency.js';
import { body, testApi } from './test-helpers.js';

const whoAmI = defineRoute({
  method: 'get',
  path: '/api/v1/whoami',
  scope: 'voip:read',
  responses: { 200: { description: 'caller', content: { 'application/json': { schema: z.object({ tenant: z.string() }) } } } },
});
const createThing = defineRoute({
  method: 'post',
  path: '/api/v1/things',
  scope: 'voip:write',
  responses: { 201: { description: 'created', content: { 'application/json': { schema: z.object({ n: z.number() }) } } } },
});

let store: Store;
let tenantId: string;
/** Shared by every app instance, so a replay from a "restarted" app is visibly not a re-run. */
let created = 0;

beforeEach(async () => {
  created = 0;
  store = openDatabase(':memory:');
  await migrateToLatest(store.db);
  tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.example' })).id;
});
afterEach(() => store.close());

function app(authOptions: Partial<ApiKeyAuthOptions> = {}) {
  const t = testApi({ auth: apiKeyAuth({ db: store.db, ...authOptions }), idempotency: new SqliteIdempotencyStore(store.db) });
  registerRoute(t.app, whoAmI, (c) => c.json({ tenant: c.get('tenantId') ?? '' }, 200));
  registerRoute(t.app, createThing, (c) => c.json({ n: ++created }, 201));
  return t;
}

const key = async (scopes: string[]) => (await createApiKey(store.db, { tenantId, name: 'k', scopes })).key;

describe('API key auth', () => {
  it('answers 401 without a key and with an unknown key', async () => {
    const { app: a } = app();
    const none = await a.request('/api/v1/whoami');
    expect(none.status).toBe(401);
    expect((await body(none)).error.code).toBe('UNAUTHORIZED');
    expect((await a.request('/api/v1/whoami', { headers: { 'X-API-Key': 'sk_live_deadbeef' } })).status).toBe(401);
  });

  it('answers 401 for a revoked key', async () => {
    const created = await createApiKey(store.db, { tenantId, name: 'old', scopes: ['voip:read'] });
    await revokeApiKey(store.db, tenantId, created.apiKey.id);
    const res = await app().app.request('/api/v1/whoami', { headers: { 'X-API-Key': created.key } });
    expect(res.status).toBe(401);
  });

  it('answers 403 when the key lacks the route scope', async () => {
    const res = await app().app.request('/api/v1/whoami', { headers: { 'X-API-Key': await key(['cdrs:read']) } });
    expect(res.status).toBe(403);
    expect((await body(res)).error.code).toBe('FORBIDDEN');
  });

  it('lets a key with the scope or admin through, as its tenant', async () => {
    const { app: a } = app();
    const scoped = await a.request('/api/v1/whoami', { headers: { 'X-API-Key': await key(['voip:read']) } });
    expect(scoped.status).toBe(200);
    expect(await body(scoped)).toEqual({ tenant: tenantId });
    const admin = await a.request('/api/v1/whoami', { headers: { Authorization: `Bearer ${await key(['admin'])}` } });
    expect(admin.status).toBe(200);
  });

  it('records last use at most once per throttle window', async () => {
    const created = await createApiKey(store.db, { tenantId, name: 'k', scopes: ['voip:read'] });
    const { app: a } = app();
    await a.request('/api/v1/whoami', { headers: { 'X-API-Key': created.key } });
    const first = await store.db.selectFrom('api_keys').select('last_used_at').where('id', '=', created.apiKey.id).executeTakeFirstOrThrow();
    expect(first.last_used_at).not.toBeNull();
    await store.db.updateTable('api_keys').set({ last_used_at: null }).execute();
    await a.request('/api/v1/whoami', { headers: { 'X-API-Key': created.key } });
    const second = await store.db.selectFrom('api_keys').select('last_used_at').where('id', '=', created.apiKey.id).executeTakeFirstOrThrow();
    expect(second.last_used_at).toBeNull();
  });

  it('keeps public routes open', async () => {
    expect((await app().app.request('/health')).status).toBe(200);
  });

  it('stores no plaintext key', async () => {
    const plain = await key(['voip:read']);
    const rows = await store.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(plain);
    expect(JSON.stringify(rows)).not.toContain(plain.slice(8, 30));
  });
});

describe('API key cache', () => {
  const whoami = (a: ReturnType<typeof app>['app'], k: string) => a.request('/api/v1/whoami', { headers: { 'X-API-Key': k } });
  /** Revokes behind the API's back, as another process or a script on the database would. */
  const revokeElsewhere = (id: string) => store.db.updateTable('api_keys').set({ revoked_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', id).execute();

  it('trusts a key it looked up for the TTL only: a change made elsewhere shows after it', async () => {
    const clock = new FakeClock();
    const { app: a } = app({ clock });
    const k = await createApiKey(store.db, { tenantId, name: 'k', scopes: ['voip:read'] });
    expect((await whoami(a, k.key)).status).toBe(200);
    await revokeElsewhere(k.apiKey.id);
    clock.advance(KEY_CACHE_TTL_MS - 1);
    expect((await whoami(a, k.key)).status).toBe(200);
    clock.advance(1);
    expect((await whoami(a, k.key)).status).toBe(401);
  });

  it('forgets every cached key after any write through the API, before answering it', async () => {
    const { app: a } = app({ clock: new FakeClock() });
    const victim = await createApiKey(store.db, { tenantId, name: 'v', scopes: ['voip:read'] });
    expect((await whoami(a, victim.key)).status).toBe(200);
    await revokeElsewhere(victim.apiKey.id);
    // Any mutating request empties the cache, whatever its route, key or outcome (here a 403).
    const write = await a.request('/api/v1/things', { method: 'POST', headers: { 'X-API-Key': await key(['cdrs:read']) } });
    expect(write.status).toBe(403);
    expect((await whoami(a, victim.key)).status).toBe(401);
  });

  it('checks expiry and scheduled revocation on every use, cached or not', async () => {
    const { app: a } = app({ clock: new FakeClock() });
    const soon = () => new Date(Date.now() + 150).toISOString();
    const expiring = await createApiKey(store.db, { tenantId, name: 'e', scopes: ['voip:read'], expiresAt: soon() });
    const graced = await createApiKey(store.db, { tenantId, name: 'g', scopes: ['voip:read'] });
    await store.db.updateTable('api_keys').set({ revoked_at: soon() }).where('id', '=', graced.apiKey.id).execute();
    expect((await whoami(a, expiring.key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await whoami(a, expiring.key)).status).toBe(401);
    expect((await whoami(a, graced.key)).status).toBe(401);
  });

  it('does not cache unknown keys: a key stored after a failed attempt works at once', async () => {
    const { app: a } = app({ clock: new FakeClock() });
    const plain = `sk_live_${'ab'.repeat(24)}`;
    expect((await whoami(a, plain)).status).toBe(401);
    await createApiKey(store.db, { tenantId, name: 'late', scopes: ['voip:read'], key: plain });
    expect((await whoami(a, plain)).status).toBe(200);
  });

  it('looks every key up when the TTL is 0', async () => {
    const { app: a } = app({ clock: new FakeClock(), cacheTtlMs: 0 });
    const k = await createApiKey(store.db, { tenantId, name: 'k', scopes: ['voip:read'] });
    expect((await whoami(a, k.key)).status).toBe(200);
    await revokeElsewhere(k.apiKey.id);
    expect((await whoami(a, k.key)).status).toBe(401);
  });
});

describe('idempotency through SQLite', () => {
  it('replays the first response for a repeated key, even from a new app instance', async () => {
    const k = await key(['voip:write']);
    const headers = { 'X-API-Key': k, 'Idempotency-Key': 'abc-1', 'content-type': 'application/json' };
    const first = await app().app.request('/api/v1/things', { method: 'POST', headers, body: '{}' });
    expect(first.status).toBe(201);
    expect(await body(first)).toEqual({ n: 1 });
    const again = await app().app.request('/api/v1/things', { method: 'POST', headers, body: '{}' });
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.headers.get('content-type')).toContain('application/json');
    expect(await body(again)).toEqual({ n: 1 });
    const reused = await app().app.request('/api/v1/things', { method: 'POST', headers, body: '{"x":1}' });
    expect(reused.status).toBe(422);
  });

  it('claims atomically: a second claim while the first runs is in progress', async () => {
    const s = new SqliteIdempotencyStore(store.db);
    const results = await Promise.all([s.claim(tenantId, 'k', 'h'), s.claim(tenantId, 'k', 'h')]);
    expect(results.map((r) => r.state).sort()).toEqual(['claimed', 'in_progress']);
    await s.release(tenantId, 'k');
    expect((await s.claim(tenantId, 'k', 'h')).state).toBe('claimed');
  });
});
