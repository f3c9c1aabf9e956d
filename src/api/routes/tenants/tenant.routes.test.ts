import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const fields = async (res: Response) => (await body(res)).error.details.map((d: { field: string }) => d.field).sort();
const create = (b: unknown, key?: string) => t.call('POST', '/api/v1/tenants', { body: b, ...(key !== undefined && { key }) });

describe('tenants', () => {
  it('creates, gets, finds by external id, patches and deletes (with audit entries)', async () => {
    const res = await create({ name: 'Shop', sip_domain: 'Shop.Example', tenant_external_id: 'w3suite-001' });
    expect(res.status).toBe(201);
    const created = (await body(res)).data;
    expect(created).toMatchObject({ name: 'Shop', sip_domain: 'shop.example', realm: 'shop.example', tenant_external_id: 'w3suite-001' });

    expect((await body(await t.call('GET', `/api/v1/tenants/${created.id}`))).data).toEqual(created);
    expect((await body(await t.call('GET', '/api/v1/tenants/by-external-id/w3suite-001'))).data.id).toBe(created.id);

    const patched = await t.call('PATCH', `/api/v1/tenants/${created.id}`, { body: { name: 'Shop 2', tenant_external_id: null } });
    expect(patched.status).toBe(200);
    expect((await body(patched)).data).toMatchObject({ name: 'Shop 2', tenant_external_id: null, realm: 'shop.example' });

    expect((await t.call('DELETE', `/api/v1/tenants/${created.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/tenants/${created.id}`)).status).toBe(404);
    const actions = (await listAudit(t.db, t.tenant.id)).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['tenant.created', 'tenant.updated', 'tenant.deleted']));
  });

  it('creates the new tenant\'s first owner on request, who can then log in to it', async () => {
    const res = await create({ name: 'Shop', sip_domain: 'shop.test', owner: { email: 'boss@shop.test', name: 'Boss', password: 'a long password' } });
    expect(res.status).toBe(201);
    const raw = await res.text();
    expect(raw).not.toContain('a long password');
    const data = JSON.parse(raw).data;
    expect(data.owner).toMatchObject({ email: 'boss@shop.test', role: 'owner', tenant_id: data.id });
    const login = await t.call('POST', '/api/v1/auth/login', { key: '', body: { email: 'boss@shop.test', password: 'a long password' } });
    expect((await body(login)).data.user.tenant_id).toBe(data.id);
    expect(await fields(await create({ name: 'X', sip_domain: 'x.test', owner: { email: 'x', name: 'X', password: 'short' } }))).toEqual(['owner.email', 'owner.password']);
  });

  it('names each invalid field', async () => {
    const res = await create({ name: '', sip_domain: 'bad domain', tenant_external_id: 'a b' });
    expect(res.status).toBe(400);
    const fields = (await body(res)).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'sip_domain', 'tenant_external_id']));
    const long = await create({ name: 'x', sip_domain: 'x.test', tenant_external_id: 'a'.repeat(65) });
    expect((await body(long)).error.details[0].field).toBe('tenant_external_id');
  });

  it('refuses a realm change by name (400), since HA1 values depend on it', async () => {
    const res = await t.call('PATCH', `/api/v1/tenants/${t.tenant.id}`, { body: { realm: 'new.realm' } });
    expect(res.status).toBe(400);
    expect((await body(res)).error.details).toEqual([expect.objectContaining({ field: 'realm' })]);
  });

  it('answers 409 for a taken SIP domain or external id', async () => {
    expect((await create({ name: 'A', sip_domain: 'acme.test' })).status).toBe(409);
    await create({ name: 'B', sip_domain: 'b.test', tenant_external_id: 'ext' });
    expect((await create({ name: 'C', sip_domain: 'c.test', tenant_external_id: 'ext' })).status).toBe(409);
  });

  it('lets an admin of the primary tenant see every tenant, others only their own', async () => {
    const all = await body(await t.call('GET', '/api/v1/tenants'));
    expect(all.data.map((x: { name: string }) => x.name)).toEqual(['Acme', 'Other']);
    const own = await body(await t.call('GET', '/api/v1/tenants', { key: t.otherAdminKey }));
    expect(own.data.map((x: { name: string }) => x.name)).toEqual(['Other']);
    expect(own.pagination.total).toBe(1);
    // A primary-tenant key without admin also sees only its own tenant.
    const reader = await t.keyFor(['voip:read']);
    expect((await body(await t.call('GET', '/api/v1/tenants', { key: reader }))).data).toHaveLength(1);
  });

  it('hides other tenants from non-primary callers (404) and keeps creation to the primary tenant (403)', async () => {
    const key = t.otherAdminKey;
    for (const [method, path] of [
      ['GET', `/api/v1/tenants/${t.tenant.id}`],
      ['PATCH', `/api/v1/tenants/${t.tenant.id}`],
      ['DELETE', `/api/v1/tenants/${t.tenant.id}`],
    ] as const) {
      const res = await t.call(method, path, { key, ...(method === 'PATCH' && { body: { name: 'x' } }) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await body(res)).error.code).toBe('TENANT_NOT_FOUND');
    }
    await t.call('PATCH', `/api/v1/tenants/${t.tenant.id}`, { body: { tenant_external_id: 'acme' } });
    expect((await t.call('GET', '/api/v1/tenants/by-external-id/acme', { key })).status).toBe(404);
    expect((await create({ name: 'X', sip_domain: 'x.test' }, key)).status).toBe(403);
    // Its own tenant it may read and rename.
    expect((await t.call('GET', `/api/v1/tenants/${t.otherTenant.id}`, { key })).status).toBe(200);
    expect((await t.call('PATCH', `/api/v1/tenants/${t.otherTenant.id}`, { key, body: { name: 'Renamed' } })).status).toBe(200);
  });

  it('never deletes the primary tenant (409)', async () => {
    const res = await t.call('DELETE', `/api/v1/tenants/${t.tenant.id}`);
    expect(res.status).toBe(409);
    expect((await body(res)).error.code).toBe('PRIMARY_TENANT');
  });

  it('answers 401 without credentials and 403 without the scope', async () => {
    expect((await t.call('GET', '/api/v1/tenants', { key: '' })).status).toBe(401);
    const cdrs = await t.keyFor(['cdrs:read']);
    expect((await t.call('GET', '/api/v1/tenants', { key: cdrs })).status).toBe(403);
    const reader = await t.keyFor(['voip:read']);
    expect((await create({ name: 'X', sip_domain: 'x.test' }, reader)).status).toBe(403);
    expect((await t.call('DELETE', `/api/v1/tenants/${t.otherTenant.id}`, { key: reader })).status).toBe(403);
  });

  it('pages: limit=1 has_more, offset beyond the end, limit 0 and 501 refused', async () => {
    const one = await body(await t.call('GET', '/api/v1/tenants?limit=1'));
    expect(one.data).toHaveLength(1);
    expect(one.pagination).toEqual({ limit: 1, offset: 0, total: 2, has_more: true });
    const beyond = await body(await t.call('GET', '/api/v1/tenants?offset=10'));
    expect(beyond.data).toEqual([]);
    expect(beyond.pagination.has_more).toBe(false);
    for (const limit of [0, 501]) {
      const res = await t.call('GET', `/api/v1/tenants?limit=${limit}`);
      expect(res.status).toBe(400);
      expect((await body(res)).error.details[0].field).toBe('limit');
    }
    const sorted = await body(await t.call('GET', '/api/v1/tenants?sort=-name'));
    expect(sorted.data[0].name).toBe('Other');
  });

  it('replays a POST with the same Idempotency-Key instead of creating twice', async () => {
    const opts = { body: { name: 'Once', sip_domain: 'once.test' }, headers: { 'Idempotency-Key': 'tenant-once' } };
    const first = await t.call('POST', '/api/v1/tenants', opts);
    const second = await t.call('POST', '/api/v1/tenants', opts);
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await second.text()).toBe(await first.text());
    expect((await body(await t.call('GET', '/api/v1/tenants'))).pagination.total).toBe(3);
  });
});
