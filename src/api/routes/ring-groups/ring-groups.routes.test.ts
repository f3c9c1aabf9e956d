import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExtension, createSite } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { auditOf, createExt, fieldsOf, type TestApi } from '../extensions/test-helpers.js';

let t: TestApi;
let a: { id: string; number: string };
let b: { id: string; number: string };
beforeEach(async () => {
  t = await testApiWithStore();
  a = await createExt(t, { number: '1001' });
  b = await createExt(t, { number: '1002' });
});
afterEach(() => t.close());

const create = (fields: Record<string, unknown>, opts: { key?: string; headers?: Record<string, string> } = {}) =>
  t.call('POST', '/api/v1/ring-groups', { body: { number: '600', name: 'Sales', ...fields }, ...opts });
const list = async (query = '') => body(await t.call('GET', `/api/v1/ring-groups${query}`));

describe('ring groups: CRUD', () => {
  it('creates with defaults, members in ringing order with their numbers, and audits it', async () => {
    const res = await create({ strategy: 'sequential', members: [{ extension_id: b.id, priority: 2 }, { extension_id: a.id, priority: 1, timeout_seconds: 10 }], fallback_number: '1000' });
    expect(res.status).toBe(201);
    const group = (await body(res)).data;
    expect(group).toMatchObject({
      number: '600', name: 'Sales', description: null, strategy: 'sequential', ring_timeout_seconds: 30, member_timeout_seconds: 15,
      fallback_number: '1000', site_id: null, last_answered_extension_id: null,
      members: [
        { extension_id: a.id, number: '1001', priority: 1, timeout_seconds: 10 },
        { extension_id: b.id, number: '1002', priority: 2, timeout_seconds: null },
      ],
    });
    expect((await body(await t.call('GET', `/api/v1/ring-groups/${group.id}`))).data).toEqual(group);
    const [entry] = await auditOf(t, 'ring_group.created');
    expect(entry).toMatchObject({ targetId: group.id, details: { number: '600', strategy: 'sequential', members: 2 } });
  });

  it('patches fields, replaces members, and audits the change', async () => {
    const group = (await body(await create({ members: [{ extension_id: a.id }] }))).data;
    const res = await t.call('PATCH', `/api/v1/ring-groups/${group.id}`, { body: { number: '601', strategy: 'round_robin', members: [{ extension_id: b.id }, { extension_id: a.id }] } });
    expect(res.status).toBe(200);
    const updated = (await body(res)).data;
    expect(updated).toMatchObject({ number: '601', strategy: 'round_robin', name: 'Sales' });
    expect(updated.members.map((m: { number: string }) => m.number)).toEqual(['1002', '1001']);
    const [entry] = await auditOf(t, 'ring_group.updated');
    expect(entry?.details).toMatchObject({ number: '601', previous_number: '600', members: 2, fields: ['members', 'number', 'strategy'] });
  });

  it('deletes (204, audited), then 404', async () => {
    const group = (await body(await create({}))).data;
    expect((await t.call('DELETE', `/api/v1/ring-groups/${group.id}`)).status).toBe(204);
    expect((await auditOf(t, 'ring_group.deleted'))[0]?.details).toMatchObject({ number: '600' });
    const res = await t.call('GET', `/api/v1/ring-groups/${group.id}`);
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe('RING_GROUP_NOT_FOUND');
    expect((await t.call('DELETE', `/api/v1/ring-groups/${group.id}`)).status).toBe(404);
  });

  it('an extension deleted leaves its groups; its delete audit names them', async () => {
    const group = (await body(await create({ members: [{ extension_id: a.id }, { extension_id: b.id }] }))).data;
    expect((await t.call('DELETE', `/api/v1/extensions/${a.id}`)).status).toBe(204);
    expect((await auditOf(t, 'extension.deleted'))[0]?.details).toMatchObject({ ring_groups_left: ['600'] });
    const after = (await body(await t.call('GET', `/api/v1/ring-groups/${group.id}`))).data;
    expect(after.members.map((m: { number: string }) => m.number)).toEqual(['1002']);
  });

  it('replays the first answer for the same Idempotency-Key', async () => {
    const send = () => create({}, { headers: { 'Idempotency-Key': 'group-600' } });
    const first = await send();
    const replay = await send();
    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await body(replay)).data.id).toBe((await body(first)).data.id);
    expect((await list()).pagination.total).toBe(1);
    // The same key with another body is refused, not applied.
    const reused = await t.call('POST', '/api/v1/ring-groups', { body: { number: '601', name: 'Other' }, headers: { 'Idempotency-Key': 'group-600' } });
    expect(reused.status).toBe(422);
  });
});

describe('ring groups: listing', () => {
  beforeEach(async () => {
    const site = await createSite(t.db, { tenantId: t.tenant.id, name: 'Shop' });
    await create({ number: '602', name: 'B', strategy: 'round_robin', members: [{ extension_id: a.id }], site_id: site.id });
    await create({ number: '601', name: 'C', members: [{ extension_id: b.id }] });
    await create({ number: '700', name: 'A', strategy: 'sequential' });
  });
  const numbers = (r: { data: Array<{ number: string }> }) => r.data.map((g) => g.number);

  it('pages by number', async () => {
    const first = await list('?limit=2');
    expect(numbers(first)).toEqual(['601', '602']);
    expect(first.pagination).toEqual({ limit: 2, offset: 0, total: 3, has_more: true });
    const last = await list('?limit=2&offset=2');
    expect(numbers(last)).toEqual(['700']);
    expect(last.pagination.has_more).toBe(false);
  });

  it('filters and sorts', async () => {
    expect(numbers(await list('?sort=name'))).toEqual(['700', '602', '601']);
    expect(numbers(await list('?sort=-number'))).toEqual(['700', '602', '601']);
    expect(numbers(await list('?strategy=sequential'))).toEqual(['700']);
    expect(numbers(await list('?q=60'))).toEqual(['601', '602']);
    expect(numbers(await list('?number=601'))).toEqual(['601']);
    expect(numbers(await list(`?extension_id=${a.id}`))).toEqual(['602']);
    const site = (await list('?number=602')).data[0].site_id;
    expect(numbers(await list(`?site_id=${site}`))).toEqual(['602']);
  });

  it.each(['limit=0', 'offset=-1', 'sort=fallback_number', 'strategy=random', 'q=6a', 'extension_id=x'])('400 for %s, naming the parameter', async (query) => {
    const res = await t.call('GET', `/api/v1/ring-groups?${query}`);
    expect(res.status).toBe(400);
    expect(await fieldsOf(res)).toContain(query.split('=')[0]);
  });
});

describe('ring groups: validation (nothing written on failure)', () => {
  afterEach(async () => {
    // Every case here fails before writing, except the ones that created a group on purpose.
    expect((await list('?number=699')).pagination.total).toBe(0);
  });

  it.each([
    [{ number: '6' }, 'number'],
    [{ number: '6x0' }, 'number'],
    [{ name: '' }, 'name'],
    [{ strategy: 'random' }, 'strategy'],
    [{ ring_timeout_seconds: 2 }, 'ring_timeout_seconds'],
    [{ member_timeout_seconds: 1000 }, 'member_timeout_seconds'],
    [{ fallback_number: 'sip:x@y' }, 'fallback_number'],
    [{ members: [{ extension_id: 'nope' }] }, 'members.0.extension_id'],
    [{ members: [{ priority: 1 }] }, 'members.0.extension_id'],
    [{ members: 'all' }, 'members'],
    [{ ringTimeout: 30 }, '(root)'],
  ])('400 VALIDATION_FAILED for %j naming %s', async (fields, field) => {
    const res = await create({ number: '699', ...fields });
    expect(res.status).toBe(400);
    expect((await body(res.clone())).error.code).toBe('VALIDATION_FAILED');
    const named = await fieldsOf(res);
    expect(named.some((f) => f === field || f.startsWith(field)), named.join()).toBe(true);
  });

  it('400 for a member listed twice, and for an unknown member field', async () => {
    const twice = await create({ number: '699', members: [{ extension_id: a.id }, { extension_id: a.id }] });
    expect(twice.status).toBe(400);
    expect(await fieldsOf(twice)).toContain('members.1.extension_id');
    const extra = await create({ number: '699', members: [{ extension_id: a.id, delay: 3 }] });
    expect(extra.status).toBe(400);
    expect(await fieldsOf(extra)).toContain('members.0');
  });

  it("422 INVALID_REFERENCE naming each member that is not the tenant's extension, and a foreign site", async () => {
    const foreign = (await createExtension(t.db, t.secretKey, { tenantId: t.otherTenant.id, number: '1003' })).extension;
    const foreignSite = await createSite(t.db, { tenantId: t.otherTenant.id, name: 'Not yours' });
    const res = await create({ number: '699', site_id: foreignSite.id, members: [{ extension_id: a.id }, { extension_id: foreign.id }, { extension_id: '00000000-0000-4000-8000-000000000000' }] });
    expect(res.status).toBe(422);
    expect((await body(res.clone())).error.code).toBe('INVALID_REFERENCE');
    expect(await fieldsOf(res)).toEqual(['members.1.extension_id', 'members.2.extension_id', 'site_id']);
  });

  it('422 for a fallback that is the group itself, on create and when a PATCH makes it so', async () => {
    const res = await create({ number: '699', fallback_number: '699' });
    expect(res.status).toBe(422);
    expect(await fieldsOf(res)).toEqual(['fallback_number']);
    const group = (await body(await create({ number: '610', fallback_number: '611' }))).data;
    const patch = await t.call('PATCH', `/api/v1/ring-groups/${group.id}`, { body: { number: '611' } });
    expect(patch.status).toBe(422);
    expect(await fieldsOf(patch)).toEqual(['number']);
  });

  it('409 RING_GROUP_NUMBER_TAKEN for an extension or group number, and 409 for an extension taking a group number', async () => {
    const taken = await create({ number: '1001' });
    expect(taken.status).toBe(409);
    expect((await body(taken.clone())).error.code).toBe('RING_GROUP_NUMBER_TAKEN');
    expect(await fieldsOf(taken)).toEqual(['number']);
    await create({ number: '610' });
    expect((await create({ number: '610' })).status).toBe(409);
    const ext = await t.call('POST', '/api/v1/extensions', { body: { number: '610' } });
    expect(ext.status).toBe(409);
    expect((await body(ext)).error.code).toBe('EXTENSION_NUMBER_TAKEN');
    const renamed = await t.call('PATCH', `/api/v1/extensions/${a.id}`, { body: { number: '610' } });
    expect(renamed.status).toBe(409);
  });

  it('PATCH: 400 for an empty body, 422 for a foreign member, and the group is unchanged', async () => {
    const group = (await body(await create({ number: '610', members: [{ extension_id: a.id }] }))).data;
    expect((await t.call('PATCH', `/api/v1/ring-groups/${group.id}`, { body: {} })).status).toBe(400);
    const foreign = (await createExtension(t.db, t.secretKey, { tenantId: t.otherTenant.id, number: '1003' })).extension;
    const res = await t.call('PATCH', `/api/v1/ring-groups/${group.id}`, { body: { name: 'Lost', members: [{ extension_id: foreign.id }] } });
    expect(res.status).toBe(422);
    expect((await body(await t.call('GET', `/api/v1/ring-groups/${group.id}`))).data).toEqual(group);
  });
});

describe('ring groups: access', () => {
  it('reads need voip:read, writes voip:write', async () => {
    const reader = await t.keyFor(['voip:read']);
    expect((await create({}, { key: reader })).status).toBe(403);
    expect((await create({}, { key: await t.keyFor(['extensions:write']) })).status).toBe(403);
    const writer = await t.keyFor(['voip:write']);
    expect((await create({}, { key: writer })).status).toBe(201);
    expect((await t.call('GET', '/api/v1/ring-groups', { key: reader })).status).toBe(200);
    expect((await t.call('GET', '/api/v1/ring-groups', { key: writer })).status).toBe(403);
  });

  it("isolates tenants: another tenant neither lists, reads, changes nor deletes Acme's group", async () => {
    const group = (await body(await create({ members: [{ extension_id: a.id }] }))).data;
    const other = { key: t.otherAdminKey };
    expect((await body(await t.call('GET', '/api/v1/ring-groups', other))).pagination.total).toBe(0);
    expect((await t.call('GET', `/api/v1/ring-groups/${group.id}`, other)).status).toBe(404);
    expect((await t.call('PATCH', `/api/v1/ring-groups/${group.id}`, { ...other, body: { name: 'x' } })).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/ring-groups/${group.id}`, other)).status).toBe(404);
    // Numbers are per tenant: the other tenant may use 600 and Acme's member ids are no reference there.
    expect((await t.call('POST', '/api/v1/ring-groups', { ...other, body: { number: '600', name: 'Theirs' } })).status).toBe(201);
    const res = await t.call('POST', '/api/v1/ring-groups', { ...other, body: { number: '601', name: 'x', members: [{ extension_id: a.id }] } });
    expect(res.status).toBe(422);
    expect((await body(await t.call('GET', `/api/v1/ring-groups/${group.id}`))).data).toEqual(group);
  });
});
