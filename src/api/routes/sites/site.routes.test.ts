import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { isIanaTimeZone } from './site.schemas.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const create = async (b: Record<string, unknown>, key?: string) => t.call('POST', '/api/v1/sites', { body: b, ...(key !== undefined && { key }) });
const fields = async (res: Response) => (await body(res)).error.details.map((d: { field: string }) => d.field);

describe('sites', () => {
  it('creates, gets (by id and store_id), patches and deletes, with audit entries', async () => {
    const res = await create({ name: 'Milano Centro', store_id: 'store-001', address: 'Via Roma 1', timezone: 'Europe/Rome' });
    expect(res.status).toBe(201);
    const site = (await body(res)).data;
    expect(site).toMatchObject({ tenant_id: t.tenant.id, name: 'Milano Centro', store_id: 'store-001', timezone: 'Europe/Rome' });
    expect((await body(await t.call('GET', `/api/v1/sites/${site.id}`))).data).toEqual(site);
    expect((await body(await t.call('GET', '/api/v1/sites/by-store-id/store-001'))).data.id).toBe(site.id);

    const patched = await t.call('PATCH', `/api/v1/sites/${site.id}`, { body: { address: null, timezone: 'UTC' } });
    expect((await body(patched)).data).toMatchObject({ address: null, timezone: 'UTC', name: 'Milano Centro' });
    expect((await t.call('DELETE', `/api/v1/sites/${site.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/sites/${site.id}`)).status).toBe(404);
    const actions = (await listAudit(t.db, t.tenant.id)).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['site.created', 'site.updated', 'site.deleted']));
  });

  it('validates name, store_id and timezone by field', async () => {
    expect(await fields(await create({ name: '' }))).toEqual(['name']);
    expect(await fields(await create({ name: 'x', timezone: 'Mars/Olympus' }))).toEqual(['timezone']);
    expect(await fields(await create({ name: 'x', timezone: '+01:00' }))).toEqual(['timezone']);
    expect(await fields(await create({ name: 'x', store_id: '' }))).toEqual(['store_id']);
    expect(await fields(await create({ name: 'x', address: 5 }))).toEqual(['address']);
    const site = (await body(await create({ name: 'x' }))).data;
    expect(await fields(await t.call('PATCH', `/api/v1/sites/${site.id}`, { body: { timezone: 'Nowhere' } }))).toEqual(['timezone']);
    expect(await fields(await t.call('GET', '/api/v1/sites/not-a-uuid'))).toEqual(['id']);
  });

  it('keeps store_id unique per tenant (409) but not across tenants', async () => {
    await create({ name: 'A', store_id: 's1' });
    const dup = await create({ name: 'B', store_id: 's1' });
    expect(dup.status).toBe(409);
    expect((await body(dup)).error.message).toContain('store_id');
    expect((await create({ name: 'B', store_id: 's1' }, t.otherAdminKey)).status).toBe(201);
  });

  it('hides another tenant\'s sites (404)', async () => {
    const site = (await body(await create({ name: 'A', store_id: 's1' }))).data;
    const key = t.otherAdminKey;
    expect((await t.call('GET', `/api/v1/sites/${site.id}`, { key })).status).toBe(404);
    expect((await body(await t.call('GET', `/api/v1/sites/${site.id}`, { key }))).error.code).toBe('SITE_NOT_FOUND');
    expect((await t.call('GET', '/api/v1/sites/by-store-id/s1', { key })).status).toBe(404);
    expect((await t.call('PATCH', `/api/v1/sites/${site.id}`, { key, body: { name: 'x' } })).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/sites/${site.id}`, { key })).status).toBe(404);
    expect((await body(await t.call('GET', '/api/v1/sites', { key }))).data).toEqual([]);
  });

  it('answers 401 without credentials and 403 without the scope', async () => {
    expect((await t.call('GET', '/api/v1/sites', { key: '' })).status).toBe(401);
    const cdrs = await t.keyFor(['cdrs:read']);
    expect((await t.call('GET', '/api/v1/sites', { key: cdrs })).status).toBe(403);
    const reader = await t.keyFor(['stores:read']);
    expect((await t.call('GET', '/api/v1/sites', { key: reader })).status).toBe(200);
    expect((await create({ name: 'x' }, reader)).status).toBe(403);
    const syncer = await t.keyFor(['stores:sync']);
    expect((await create({ name: 'x' }, syncer)).status).toBe(201);
  });

  it('pages and sorts', async () => {
    for (const name of ['b', 'a', 'c']) await create({ name, store_id: `s-${name}` });
    const one = await body(await t.call('GET', '/api/v1/sites?limit=1'));
    expect(one.data.map((s: { name: string }) => s.name)).toEqual(['a']);
    expect(one.pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    expect((await body(await t.call('GET', '/api/v1/sites?offset=5'))).data).toEqual([]);
    expect((await body(await t.call('GET', '/api/v1/sites?sort=-store_id'))).data[0].name).toBe('c');
    for (const q of ['limit=0', 'limit=501', 'offset=-1', 'sort=address']) {
      expect((await t.call('GET', `/api/v1/sites?${q}`)).status, q).toBe(400);
    }
  });

  it('replays a POST with the same Idempotency-Key', async () => {
    const opts = { body: { name: 'Once' }, headers: { 'Idempotency-Key': 'site-once' } };
    const first = await body(await t.call('POST', '/api/v1/sites', opts));
    const again = await t.call('POST', '/api/v1/sites', opts);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await body(again)).data.id).toBe(first.data.id);
    expect((await body(await t.call('GET', '/api/v1/sites'))).pagination.total).toBe(1);
  });
});

describe('isIanaTimeZone', () => {
  it('accepts zone names and refuses offsets and junk', () => {
    for (const tz of ['Europe/Rome', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+1']) expect(isIanaTimeZone(tz), tz).toBe(true);
    for (const tz of ['', '+01:00', 'Europe/Nowhere', 'rome', '../etc']) expect(isIanaTimeZone(tz), tz).toBe(false);
  });
});
