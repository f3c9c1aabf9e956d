import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { body, testApiWithStore } from '../../test-helpers.js';
import { auditOf, bind, createExt, fieldsOf, type TestApi } from './test-helpers.js';

let t: TestApi;
let alice: { id: string; number: string };
let bob: { id: string; number: string };
beforeEach(async () => {
  t = await testApiWithStore();
  alice = await createExt(t, { number: '1001' });
  bob = await createExt(t, { number: '1002' });
});
afterEach(async () => {
  vi.useRealTimers();
  await t.close();
});

const get = async (path: string, key?: string) => t.call('GET', path, key === undefined ? {} : { key });

describe('GET /api/v1/registrations', () => {
  it('shows a binding once the registrar wrote it, with its flow, and hides it after expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const reg = await bind(t, alice, { transport: 'wss', expiresInSeconds: 120, userAgent: 'SIP.js/0.21' });
    const res = await body(await get('/api/v1/registrations'));
    expect(res.pagination).toEqual({ limit: 50, offset: 0, total: 1, has_more: false });
    expect(res.data[0]).toEqual({
      id: reg.id,
      extension_id: alice.id,
      extension_number: '1001',
      aor: 'sip:1001@acme.test',
      contact_uri: reg.contactUri,
      user_agent: 'SIP.js/0.21',
      transport: 'wss',
      connection_type: 'wss',
      source_address: reg.sourceAddress,
      source_port: reg.sourcePort,
      expires_at: reg.expiresAt,
      expires_in: 120,
      qualify: null,
      created_at: reg.createdAt,
      updated_at: reg.updatedAt,
    });
    vi.setSystemTime(Date.now() + 121_000);
    const later = await body(await get('/api/v1/registrations'));
    expect(later).toEqual({ data: [], pagination: { limit: 50, offset: 0, total: 0, has_more: false } });
    expect((await get(`/api/v1/registrations/${reg.id}`)).status).toBe(404);
  });

  it.each([
    ['udp', 'sip'],
    ['tcp', 'sip'],
    ['tls', 'sip'],
    ['ws', 'wss'],
    ['wss', 'wss'],
  ])('transport %s is connection type %s', async (transport, connection) => {
    await bind(t, alice, { transport });
    const [item] = (await body(await get('/api/v1/registrations'))).data;
    expect(item).toMatchObject({ transport, connection_type: connection });
  });

  it('filters by extension_id, number and transport', async () => {
    await bind(t, alice, { transport: 'udp' });
    await bind(t, alice, { transport: 'wss' });
    await bind(t, bob, { transport: 'udp' });
    const count = async (q: string) => (await body(await get(`/api/v1/registrations?${q}`))).pagination.total;
    expect(await count(`extension_id=${alice.id}`)).toBe(2);
    expect(await count('number=1002')).toBe(1);
    expect(await count('number=1999')).toBe(0);
    expect(await count('transport=udp')).toBe(2);
    expect(await count('transport=wss&number=1001')).toBe(1);
  });

  it('pages: limit=1 has_more, offset past the end empty with the total, bad limits 400', async () => {
    for (let i = 0; i < 3; i++) await bind(t, alice);
    const first = await body(await get('/api/v1/registrations?limit=1'));
    expect(first.data).toHaveLength(1);
    expect(first.pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    const past = await body(await get('/api/v1/registrations?offset=5'));
    expect(past.data).toEqual([]);
    expect(past.pagination.total).toBe(3);
    for (const q of ['limit=0', 'limit=501']) expect((await get(`/api/v1/registrations?${q}`)).status).toBe(400);
  });

  it.each(['transport=sctp', 'number=abc', 'extension_id=1001', 'sort=contact_uri'])('400 for %s, naming it', async (q) => {
    const res = await get(`/api/v1/registrations?${q}`);
    expect(res.status).toBe(400);
    expect(await fieldsOf(res)).toContain(q.split('=')[0]);
  });

  it("never shows another tenant's bindings; 401 and 403 without key or scope", async () => {
    await bind(t, alice);
    expect((await body(await get('/api/v1/registrations', t.otherAdminKey))).pagination.total).toBe(0);
    expect((await get('/api/v1/registrations', '')).status).toBe(401);
    expect((await get('/api/v1/registrations', await t.keyFor(['cdrs:read']))).status).toBe(403);
    expect((await get('/api/v1/registrations', await t.keyFor(['voip:read']))).status).toBe(200);
  });
});

describe('GET /api/v1/registrations/{id}', () => {
  it("returns one binding, 404 REGISTRATION_NOT_FOUND for another tenant's", async () => {
    const reg = await bind(t, alice);
    expect((await body(await get(`/api/v1/registrations/${reg.id}`))).data).toMatchObject({ id: reg.id, extension_number: '1001' });
    const other = await get(`/api/v1/registrations/${reg.id}`, t.otherAdminKey);
    expect(other.status).toBe(404);
    expect((await body(other)).error.code).toBe('REGISTRATION_NOT_FOUND');
  });
});

describe('DELETE /api/v1/registrations/{id}', () => {
  it('force-unregisters one binding and audits it', async () => {
    const gone = await bind(t, alice);
    const kept = await bind(t, alice);
    const res = await t.call('DELETE', `/api/v1/registrations/${gone.id}`, { key: await t.keyFor(['extensions:write']) });
    expect(res.status).toBe(204);
    const left = (await body(await get('/api/v1/registrations'))).data.map((r: { id: string }) => r.id);
    expect(left).toEqual([kept.id]);
    const [entry] = await auditOf(t, 'registration.deleted');
    expect(entry).toMatchObject({ targetType: 'registration', targetId: gone.id, details: { extension_id: alice.id, contact_uri: gone.contactUri } });
    expect((await t.call('DELETE', `/api/v1/registrations/${gone.id}`)).status).toBe(404);
  });

  it("401, 403 with read-only scope, 404 for another tenant's binding (which stays)", async () => {
    const reg = await bind(t, alice);
    const del = async (key: string) => (await t.call('DELETE', `/api/v1/registrations/${reg.id}`, { key })).status;
    expect(await del('')).toBe(401);
    expect(await del(await t.keyFor(['voip:read']))).toBe(403);
    expect(await del(t.otherAdminKey)).toBe(404);
    expect((await get(`/api/v1/registrations/${reg.id}`)).status).toBe(200);
  });
});

describe('GET /api/v1/extensions/{id}/registrations', () => {
  it("lists only that extension's live bindings, paged", async () => {
    await bind(t, alice);
    await bind(t, alice, { transport: 'wss' });
    await bind(t, bob);
    await bind(t, alice, { expiresInSeconds: -1 });
    const res = await body(await get(`/api/v1/extensions/${alice.id}/registrations?limit=1`));
    expect(res.pagination).toEqual({ limit: 1, offset: 0, total: 2, has_more: true });
    expect(res.data[0].extension_id).toBe(alice.id);
    expect((await get(`/api/v1/extensions/${alice.id}/registrations?limit=0`)).status).toBe(400);
  });

  it("404 for another tenant's extension, 401/403 without key or scope", async () => {
    const other = await get(`/api/v1/extensions/${alice.id}/registrations`, t.otherAdminKey);
    expect(other.status).toBe(404);
    expect((await body(other)).error.code).toBe('EXTENSION_NOT_FOUND');
    expect((await get(`/api/v1/extensions/${alice.id}/registrations`, '')).status).toBe(401);
    expect((await get(`/api/v1/extensions/${alice.id}/registrations`, await t.keyFor(['cdrs:read']))).status).toBe(403);
  });
});

describe('GET /api/v1/extensions/{id}/status', () => {
  it('unregistered at first, then registered with each contact, its connection type and qualify result', async () => {
    const before = await body(await get(`/api/v1/extensions/${alice.id}/status`));
    expect(before.data).toEqual({
      extension_id: alice.id,
      number: '1001',
      status: 'active',
      dnd: false,
      registered: false,
      contacts: [],
      last_seen: null,
    });
    const desk = await bind(t, alice, { transport: 'udp', userAgent: 'Yealink SIP-T46U' });
    const browser = await bind(t, alice, { transport: 'wss', userAgent: 'SIP.js/0.21' });
    t.resources.sip = {
      qualifyStatus: (id) => (id === desk.id ? { reachable: true, rttMs: 12, checkedAt: '2026-01-01T00:00:00.000Z' } : undefined),
    };
    const { data } = await body(await get(`/api/v1/extensions/${alice.id}/status`));
    expect(data.registered).toBe(true);
    expect(data.contacts).toHaveLength(2);
    const byId = new Map(data.contacts.map((c: { registration_id: string }) => [c.registration_id, c]));
    expect(byId.get(desk.id)).toEqual({
      registration_id: desk.id,
      ip: desk.sourceAddress,
      port: desk.sourcePort,
      transport: 'udp',
      connection_type: 'sip',
      user_agent: 'Yealink SIP-T46U',
      expires_at: desk.expiresAt,
      last_seen: desk.updatedAt,
      qualify: { reachable: true, rtt_ms: 12, checked_at: '2026-01-01T00:00:00.000Z' },
    });
    expect(byId.get(browser.id)).toMatchObject({ connection_type: 'wss', qualify: null });
    expect(data.last_seen).toBe(data.contacts[0].last_seen);
  });

  it('shows dnd and disabled status; disabling unregisters at once', async () => {
    await bind(t, alice);
    await t.call('PATCH', `/api/v1/extensions/${alice.id}`, { body: { dnd: true, status: 'disabled' } });
    const { data } = await body(await get(`/api/v1/extensions/${alice.id}/status`));
    expect(data).toMatchObject({ status: 'disabled', dnd: true, registered: false, contacts: [] });
  });

  it("404 for another tenant's extension, 401/403 without key or scope", async () => {
    expect((await get(`/api/v1/extensions/${alice.id}/status`, t.otherAdminKey)).status).toBe(404);
    expect((await get(`/api/v1/extensions/${alice.id}/status`, '')).status).toBe(401);
    expect((await get(`/api/v1/extensions/${alice.id}/status`, await t.keyFor(['cdrs:read']))).status).toBe(403);
    expect((await get(`/api/v1/extensions/${alice.id}/status`, await t.keyFor(['voip:read']))).status).toBe(200);
  });
});
