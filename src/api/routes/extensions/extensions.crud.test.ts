import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1, createSite, findDigestCredentials, listRegistrations } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { auditOf, bind, createExt, fieldsOf, type TestApi } from './test-helpers.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const list = async (query = '', key?: string) =>
  body(await t.call('GET', `/api/v1/extensions${query}`, key === undefined ? {} : { key }));

describe('GET /api/v1/extensions', () => {
  beforeEach(async () => {
    for (const [number, display_name] of [
      ['1003', 'Carol'],
      ['1001', 'Bob'],
      ['2001', 'Alice'],
    ]) {
      await createExt(t, { number, display_name });
    }
  });

  it('lists by number with pagination, without passwords', async () => {
    const res = await list();
    expect(res.data.map((e: { number: string }) => e.number)).toEqual(['1001', '1003', '2001']);
    expect(res.pagination).toEqual({ limit: 50, offset: 0, total: 3, has_more: false });
    expect(JSON.stringify(res)).not.toContain('sip_password');
  });

  it('pages: limit=1 has_more, offset past the end is empty with the right total', async () => {
    const first = await list('?limit=1');
    expect(first.data).toHaveLength(1);
    expect(first.pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    const last = await list('?limit=1&offset=2');
    expect(last.pagination.has_more).toBe(false);
    const past = await list('?offset=10');
    expect(past.data).toEqual([]);
    expect(past.pagination).toMatchObject({ total: 3, has_more: false });
  });

  it.each(['limit=0', 'limit=501', 'offset=-1', 'limit=abc', 'sort=sip_password', 'status=gone', 'q=1a', 'site_id=x'])(
    '400 for %s, naming the parameter',
    async (query) => {
      const res = await t.call('GET', `/api/v1/extensions?${query}`);
      expect(res.status).toBe(400);
      expect(await fieldsOf(res)).toContain(query.split('=')[0]);
    },
  );

  it('sorts by display_name and created_at, ascending or descending', async () => {
    const numbers = (r: { data: Array<{ number: string }> }) => r.data.map((e) => e.number);
    expect(numbers(await list('?sort=display_name'))).toEqual(['2001', '1001', '1003']);
    expect(numbers(await list('?sort=-number'))).toEqual(['2001', '1003', '1001']);
    // Creation instants may tie within a millisecond, so check the order of the values themselves.
    const createdAt = (r: { data: Array<{ created_at: string }> }) => r.data.map((e) => e.created_at);
    const ascending = createdAt(await list('?sort=created_at'));
    expect(ascending).toEqual([...ascending].sort());
    const descending = createdAt(await list('?sort=-created_at'));
    expect(descending).toEqual([...descending].sort().reverse());
  });

  it('filters by number prefix, exact number, status and site', async () => {
    const site = await createSite(t.db, { tenantId: t.tenant.id, name: 'Shop' });
    await createExt(t, { number: '3001', status: 'disabled', site_id: site.id });
    expect((await list('?q=10')).pagination.total).toBe(2);
    expect((await list('?number=1003')).data.map((e: { number: string }) => e.number)).toEqual(['1003']);
    expect((await list('?status=disabled')).data.map((e: { number: string }) => e.number)).toEqual(['3001']);
    expect((await list(`?site_id=${site.id}`)).pagination.total).toBe(1);
    expect((await list('?status=active&q=2')).pagination.total).toBe(1);
  });

  it('shows the live registration summary of each extension', async () => {
    const [ext] = (await list('?number=1001')).data;
    await bind(t, ext);
    await bind(t, ext, { transport: 'wss' });
    await bind(t, ext, { expiresInSeconds: -5 }); // expired: not counted
    const items = (await list()).data as Array<{ number: string; registration_status: unknown }>;
    expect(items.find((e) => e.number === '1001')?.registration_status).toEqual({ registered: true, contacts: 2 });
    expect(items.find((e) => e.number === '1003')?.registration_status).toEqual({ registered: false, contacts: 0 });
  });

  it("never shows another tenant's extensions", async () => {
    expect((await list('', t.otherAdminKey)).pagination.total).toBe(0);
  });

  it('401 without a key, 403 without voip:read', async () => {
    expect((await t.call('GET', '/api/v1/extensions', { key: '' })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/extensions', { key: await t.keyFor(['cdrs:read']) })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/extensions', { key: await t.keyFor(['voip:read']) })).status).toBe(200);
  });
});

describe('GET /api/v1/extensions/{id}', () => {
  it('returns the extension with its SIP identity and no password', async () => {
    const created = await createExt(t, { display_name: 'Alice' });
    const res = await t.call('GET', `/api/v1/extensions/${created.id}`, { key: await t.keyFor(['voip:read']) });
    expect(res.status).toBe(200);
    const { data } = await body(res);
    const { sip_password: _hidden, ...expected } = created;
    expect(data).toEqual(expected);
    expect(data).not.toHaveProperty('sip_password');
  });

  it("404 EXTENSION_NOT_FOUND for an unknown id and for another tenant's", async () => {
    const created = await createExt(t);
    const other = await t.call('GET', `/api/v1/extensions/${created.id}`, { key: t.otherAdminKey });
    expect(other.status).toBe(404);
    expect((await body(other)).error.code).toBe('EXTENSION_NOT_FOUND');
    const unknown = await t.call('GET', '/api/v1/extensions/0b5e8c1e-6f0a-4f7e-9d35-3c2e9b1f4a10');
    expect(unknown.status).toBe(404);
  });

  it('400 naming id for an id that is not a UUID', async () => {
    const res = await t.call('GET', '/api/v1/extensions/1001');
    expect(res.status).toBe(400);
    expect(await fieldsOf(res)).toEqual(['id']);
  });
});

describe('PATCH /api/v1/extensions/{id}', () => {
  const patch = (id: string, b: unknown, key?: string) =>
    t.call('PATCH', `/api/v1/extensions/${id}`, { body: b, ...(key === undefined ? {} : { key }) });

  it('changes settings, merges forward, keeps the rest, and audits field names', async () => {
    const created = await createExt(t, { forward: { busy: '1002', no_answer_seconds: 20 } });
    const res = await patch(created.id, { display_name: 'Reception', dnd: true, forward: { always: '1003', busy: null }, codecs: ['G722'] });
    expect(res.status).toBe(200);
    const { data } = await body(res);
    expect(data).toMatchObject({
      display_name: 'Reception',
      dnd: true,
      codecs: ['G722'],
      forward: { always: '1003', busy: null, no_answer: null, no_answer_seconds: 20 },
      voicemail_enabled: true,
    });
    expect(data.updated_at >= created.updated_at).toBe(true);
    const [entry] = await auditOf(t, 'extension.updated');
    expect(entry?.details).toMatchObject({ fields: ['codecs', 'display_name', 'dnd', 'forward'], bindings_removed: 0 });
  });

  it('a new sip_password re-hashes HA1, drops the bindings and stays out of the audit', async () => {
    const created = await createExt(t);
    await bind(t, created);
    const res = await patch(created.id, { sip_password: 'brand-new-password-1' });
    expect(res.status).toBe(200);
    expect((await body(res)).data.registration_status).toEqual({ registered: false, contacts: 0 });
    const creds = await findDigestCredentials(t.db, t.tenant.id, '1001');
    expect(creds?.ha1Md5).toBe(computeHa1('1001', 'acme.test', 'brand-new-password-1').md5);
    const [entry] = await auditOf(t, 'extension.updated');
    expect(entry?.details).toMatchObject({ fields: ['sip_password'], bindings_removed: 1 });
    expect(JSON.stringify(entry)).not.toContain('brand-new-password-1');
  });

  it('a new number re-hashes HA1 from the stored password, so the old password works under the new user', async () => {
    const created = await createExt(t);
    await bind(t, created);
    const res = await patch(created.id, { number: '1501' });
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ number: '1501', sip_username: '1501' });
    expect(await findDigestCredentials(t.db, t.tenant.id, '1001')).toBeUndefined();
    const creds = await findDigestCredentials(t.db, t.tenant.id, '1501');
    expect(creds?.ha1Sha256).toBe(computeHa1('1501', 'acme.test', created.sip_password).sha256);
    expect((await listRegistrations(t.db, t.tenant.id)).total).toBe(0);
  });

  it('disabling removes the bindings in the same change', async () => {
    const created = await createExt(t);
    await bind(t, created);
    await bind(t, created, { transport: 'wss' });
    const res = await patch(created.id, { status: 'disabled' });
    expect((await body(res)).data).toMatchObject({ status: 'disabled', registration_status: { registered: false, contacts: 0 } });
    expect((await listRegistrations(t.db, t.tenant.id, { now: null })).total).toBe(0);
    const [entry] = await auditOf(t, 'extension.updated');
    expect(entry?.details).toMatchObject({ status: 'disabled', bindings_removed: 2 });
  });

  it('other settings leave the bindings alone', async () => {
    const created = await createExt(t);
    await bind(t, created);
    const { data } = await body(await patch(created.id, { caller_id_name: 'Desk' }));
    expect(data.registration_status).toEqual({ registered: true, contacts: 1 });
  });

  it('409 naming number when the new number is taken', async () => {
    await createExt(t, { number: '1002' });
    const created = await createExt(t);
    const res = await patch(created.id, { number: '1002' });
    expect(res.status).toBe(409);
    expect((await body(res.clone())).error.code).toBe('EXTENSION_NUMBER_TAKEN');
    expect(await fieldsOf(res)).toEqual(['number']);
  });

  it("422 naming site_id for another tenant's site; clearing the site works", async () => {
    const created = await createExt(t);
    const foreign = await createSite(t.db, { tenantId: t.otherTenant.id, name: 'Not yours' });
    const res = await patch(created.id, { site_id: foreign.id });
    expect(res.status).toBe(422);
    expect(await fieldsOf(res)).toEqual(['site_id']);
    expect((await patch(created.id, { site_id: null })).status).toBe(200);
  });

  it.each([
    ['an empty body', {}, '(root)'],
    ['a short password', { sip_password: 'x' }, 'sip_password'],
    ['a bad number', { number: 'one' }, 'number'],
    ['max calls 0', { max_concurrent_calls: 0 }, 'max_concurrent_calls'],
    ['an unknown codec', { codecs: ['AAC'] }, 'codecs.0'],
    ['a bad status', { status: 'paused' }, 'status'],
  ])('400 for %s', async (_name, b, field) => {
    const created = await createExt(t);
    const res = await patch(created.id, b);
    expect(res.status).toBe(400);
    expect(await fieldsOf(res)).toContain(field);
  });

  it("401, 403 and 404 for another tenant's extension", async () => {
    const created = await createExt(t);
    expect((await patch(created.id, { dnd: true }, '')).status).toBe(401);
    expect((await patch(created.id, { dnd: true }, await t.keyFor(['voip:read']))).status).toBe(403);
    const other = await patch(created.id, { dnd: true }, t.otherAdminKey);
    expect(other.status).toBe(404);
    expect((await body(other)).error.code).toBe('EXTENSION_NOT_FOUND');
    expect((await patch(created.id, { dnd: true }, await t.keyFor(['extensions:write']))).status).toBe(200);
  });
});

describe('DELETE /api/v1/extensions/{id}', () => {
  it('deletes the extension and its bindings, and audits it', async () => {
    const created = await createExt(t);
    await bind(t, created);
    const res = await t.call('DELETE', `/api/v1/extensions/${created.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await t.call('GET', `/api/v1/extensions/${created.id}`)).status).toBe(404);
    expect((await listRegistrations(t.db, t.tenant.id, { now: null })).total).toBe(0);
    const [entry] = await auditOf(t, 'extension.deleted');
    expect(entry).toMatchObject({ targetId: created.id, details: { number: '1001', bindings_removed: 1 } });
    expect((await t.call('DELETE', `/api/v1/extensions/${created.id}`)).status).toBe(404);
  });

  it("401, 403 and 404 for another tenant's extension (which survives)", async () => {
    const created = await createExt(t);
    const del = async (key: string) => (await t.call('DELETE', `/api/v1/extensions/${created.id}`, { key })).status;
    expect(await del('')).toBe(401);
    expect(await del(await t.keyFor(['voip:read']))).toBe(403);
    expect(await del(t.otherAdminKey)).toBe(404);
    expect((await t.call('GET', `/api/v1/extensions/${created.id}`)).status).toBe(200);
  });
});
