import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExtension, createUser, listAudit, type Extension } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
let e1001: Extension;
let e1002: Extension;
let theirs: Extension;
beforeEach(async () => {
  t = await testApiWithStore();
  e1001 = (await createExtension(t.db, t.secretKey, { tenantId: t.tenant.id, number: '1001' })).extension;
  e1002 = (await createExtension(t.db, t.secretKey, { tenantId: t.tenant.id, number: '1002' })).extension;
  theirs = (await createExtension(t.db, t.secretKey, { tenantId: t.otherTenant.id, number: '1001' })).extension;
});
afterEach(() => t.close());

const put = (id: string, b: unknown, key?: string) => t.call('PUT', `/api/v1/user-mappings/${id}`, { body: b, ...(key === undefined ? {} : { key }) });
const fields = (b: { error: { details: Array<{ field: string }> } }) => b.error.details.map((d) => d.field);
const count = async () => Number((await t.db.selectFrom('external_user_mappings').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('PUT /api/v1/user-mappings/{external_user_id}', () => {
  it('creates (201) then replaces (200) a mapping, by extension id or number, and audits it', async () => {
    const created = await put('user_abc123', { extension_id: e1001.id, external_system: 'crm', display_name: 'Ann' });
    expect(created.status).toBe(201);
    expect((await body(created)).data).toMatchObject({ external_system: 'crm', external_user_id: 'user_abc123', extension_id: e1001.id, extension_number: '1001', display_name: 'Ann' });
    const replaced = await put('user_abc123', { extension_number: '1002', external_system: 'crm' });
    expect(replaced.status).toBe(200);
    expect((await body(replaced)).data).toMatchObject({ extension_id: e1002.id, display_name: null });
    const audit = await listAudit(t.db, t.tenant.id, { action: 'user_mapping.upserted' });
    expect(audit.items.map((e) => e.details.created)).toEqual([false, true]);
  });

  it('maps to a user of the tenant', async () => {
    const user = await createUser(t.db, { tenantId: t.tenant.id, email: 'ann@acme.test', name: 'Ann', role: 'user', passwordHash: 'x' });
    const res = await put('42', { user_id: user.id });
    expect(res.status).toBe(201);
    expect((await body(res)).data).toMatchObject({ external_system: 'default', user_id: user.id, extension_id: null });
  });

  it.each([
    [{}, 'extension_id'],
    [{ extension_id: 'nope' }, 'extension_id'],
    [{ extension_id: '00000000-0000-4000-8000-000000000000', extension_number: '1001' }, 'extension_number'],
    [{ extension_number: '1001', external_system: 'CRM!' }, 'external_system'],
    [{ extension_number: '1001', user_id: 'x' }, 'user_id'],
  ])('refuses %j naming %s', async (input, field) => {
    const res = await put('u1', input);
    expect(res.status).toBe(400);
    expect(fields(await body(res))).toContain(field);
  });

  it('refuses a bad external id in the path', async () => {
    const res = await put('a%20b', { extension_number: '1001' });
    expect(res.status).toBe(400);
    expect(fields(await body(res))).toContain('external_user_id');
  });

  it("answers 422 naming the field for another tenant's extension or user, or an unknown number", async () => {
    for (const [input, field] of [
      [{ extension_id: theirs.id }, 'extension_id'],
      [{ extension_number: '9999' }, 'extension_number'],
      [{ extension_number: '1001', user_id: '00000000-0000-4000-8000-000000000000' }, 'user_id'],
    ] as const) {
      const res = await put('u1', input);
      expect(res.status).toBe(422);
      const b = await body(res);
      expect(b.error.code).toBe('INVALID_REFERENCE');
      expect(fields(b)).toEqual([field]);
    }
    expect(await count()).toBe(0);
  });

  it('answers 401 without a key, 403 with a read-only key', async () => {
    expect((await put('u1', { extension_number: '1001' }, '')).status).toBe(401);
    expect((await put('u1', { extension_number: '1001' }, await t.keyFor(['voip:read']))).status).toBe(403);
    expect((await put('u1', { extension_number: '1001' }, await t.keyFor(['extensions:sync']))).status).toBe(201);
  });
});

describe('POST /api/v1/user-mappings/batch', () => {
  const batch = (b: unknown, headers: Record<string, string> = {}) => t.call('POST', '/api/v1/user-mappings/batch', { body: b, headers });

  it('upserts every item in one go', async () => {
    await put('u1', { extension_number: '1001', external_system: 'crm' });
    const res = await batch({ mappings: [{ external_user_id: 'u1', external_system: 'crm', extension_number: '1002' }, { external_user_id: 'u2', external_system: 'crm', extension_id: e1001.id }] });
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ count: 2, created: 1, updated: 1, mappings: [{ extension_number: '1002' }, { extension_number: '1001' }] });
    expect((await listAudit(t.db, t.tenant.id, { action: 'user_mapping.batch_upserted' })).items[0]?.details).toMatchObject({ count: 2 });
  });

  it('writes nothing when one item refers to a missing extension, listing each failing item', async () => {
    const res = await batch({
      mappings: [
        { external_user_id: 'ok', extension_number: '1001' },
        { external_user_id: 'bad', extension_id: theirs.id },
        { external_user_id: 'bad2', extension_number: '7777' },
      ],
    });
    expect(res.status).toBe(422);
    expect(fields(await body(res))).toEqual(['mappings.1.extension_id', 'mappings.2.extension_number']);
    expect(await count()).toBe(0);
    expect((await listAudit(t.db, t.tenant.id)).total).toBe(0);
  });

  it('validates shape, size and duplicates, naming item fields', async () => {
    expect(fields(await body(await batch({ mappings: [] })))).toContain('mappings');
    const many = Array.from({ length: 501 }, (_, i) => ({ external_user_id: `u${i}`, extension_number: '1001' }));
    expect(fields(await body(await batch({ mappings: many })))).toContain('mappings');
    const dup = await body(await batch({ mappings: [{ external_user_id: 'u', extension_number: '1001' }, { external_user_id: 'x' }, { external_user_id: 'u', extension_number: '1002' }] }));
    expect(fields(dup)).toEqual(expect.arrayContaining(['mappings.1.extension_id', 'mappings.2.external_user_id']));
    expect(await count()).toBe(0);
  });

  it('accepts 500 items', async () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ external_user_id: `u${i}`, extension_number: i % 2 ? '1001' : '1002' }));
    const res = await batch({ mappings: many });
    expect(res.status).toBe(200);
    expect(await count()).toBe(500);
  });

  it('replays an Idempotency-Key without writing twice', async () => {
    const b = { mappings: [{ external_user_id: 'u1', extension_number: '1001' }] };
    const first = await batch(b, { 'Idempotency-Key': 'sync-1' });
    const again = await batch(b, { 'Idempotency-Key': 'sync-1' });
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await again.text()).toBe(await first.text());
    expect((await listAudit(t.db, t.tenant.id)).total).toBe(1);
    expect((await batch({ mappings: [] }, { 'Idempotency-Key': 'sync-1' })).status).toBe(422);
  });
});

describe('reading and deleting mappings', () => {
  beforeEach(async () => {
    await put('u1', { extension_number: '1001', external_system: 'crm' });
    await put('u2', { extension_number: '1001' });
    await put('u3', { extension_number: '1002' });
  });

  it('gets by external id within its system', async () => {
    const res = await t.call('GET', '/api/v1/user-mappings/u1?external_system=crm');
    expect(res.status).toBe(200);
    expect((await body(res)).data.extension_number).toBe('1001');
    const missing = await t.call('GET', '/api/v1/user-mappings/u1');
    expect(missing.status).toBe(404);
    expect((await body(missing)).error.code).toBe('USER_MAPPING_NOT_FOUND');
  });

  it('lists with filters and pagination edges', async () => {
    const all = await body(await t.call('GET', '/api/v1/user-mappings'));
    expect(all.pagination.total).toBe(3);
    expect((await body(await t.call('GET', '/api/v1/user-mappings?external_system=crm'))).data.map((m: { external_user_id: string }) => m.external_user_id)).toEqual(['u1']);
    expect((await body(await t.call(`GET`, `/api/v1/user-mappings?extension_id=${e1002.id}`))).pagination.total).toBe(1);
    expect((await body(await t.call('GET', '/api/v1/user-mappings?limit=1'))).pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    expect((await body(await t.call('GET', '/api/v1/user-mappings?offset=9'))).data).toEqual([]);
    for (const bad of ['limit=0', 'limit=501', 'extension_id=x']) {
      const res = await t.call('GET', `/api/v1/user-mappings?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(fields(await body(res))).toContain(bad.split('=')[0]);
    }
  });

  it('looks up by extension (reverse), 404 for an unknown or foreign extension', async () => {
    const res = await body(await t.call('GET', `/api/v1/user-mappings/by-extension/${e1001.id}`));
    expect(res.data.map((m: { external_user_id: string }) => m.external_user_id)).toEqual(['u1', 'u2']);
    const foreign = await t.call('GET', `/api/v1/user-mappings/by-extension/${theirs.id}`);
    expect(foreign.status).toBe(404);
    expect((await body(foreign)).error.code).toBe('EXTENSION_NOT_FOUND');
    expect(fields(await body(await t.call('GET', '/api/v1/user-mappings/by-extension/x')))).toContain('extension_id');
  });

  it("keeps tenants apart: the other tenant sees none and cannot delete or read ours", async () => {
    const key = t.otherAdminKey;
    expect((await body(await t.call('GET', '/api/v1/user-mappings', { key }))).pagination.total).toBe(0);
    expect((await t.call('GET', '/api/v1/user-mappings/u2', { key })).status).toBe(404);
    expect((await t.call('DELETE', '/api/v1/user-mappings/u2', { key })).status).toBe(404);
    expect((await t.call('GET', `/api/v1/user-mappings/by-extension/${e1001.id}`, { key })).status).toBe(404);
    // their PUT with the same external id creates their own mapping, to their own extension
    expect((await put('u2', { extension_id: e1001.id }, key)).status).toBe(422);
    expect((await put('u2', { extension_id: theirs.id }, key)).status).toBe(201);
    expect((await body(await t.call('GET', '/api/v1/user-mappings/u2'))).data.extension_id).toBe(e1001.id);
  });

  it('deletes (204, audited), then 404', async () => {
    expect((await t.call('DELETE', '/api/v1/user-mappings/u1?external_system=crm')).status).toBe(204);
    expect((await t.call('GET', '/api/v1/user-mappings/u1?external_system=crm')).status).toBe(404);
    expect((await t.call('DELETE', '/api/v1/user-mappings/u1?external_system=crm')).status).toBe(404);
    expect((await listAudit(t.db, t.tenant.id, { action: 'user_mapping.deleted' })).total).toBe(1);
  });

  it('answers 401 and 403 on every route', async () => {
    const narrow = await t.keyFor(['cdrs:read']);
    for (const [method, path] of [
      ['GET', '/api/v1/user-mappings'],
      ['GET', '/api/v1/user-mappings/u2'],
      ['GET', `/api/v1/user-mappings/by-extension/${e1001.id}`],
      ['DELETE', '/api/v1/user-mappings/u2'],
      ['POST', '/api/v1/user-mappings/batch'],
    ] as const) {
      expect((await t.call(method, path, { key: '' })).status, `${method} ${path}`).toBe(401);
      expect((await t.call(method, path, { key: narrow })).status, `${method} ${path}`).toBe(403);
    }
    // reads need only voip:read; deleting needs extensions:sync
    const reader = await t.keyFor(['voip:read']);
    expect((await t.call('GET', '/api/v1/user-mappings/u2', { key: reader })).status).toBe(200);
    expect((await t.call('DELETE', '/api/v1/user-mappings/u2', { key: reader })).status).toBe(403);
  });
});
