import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
  const at = (day: number) => `2030-01-0${day}T00:00:00.000Z`;
  await appendAudit(t.db, { tenantId: t.tenant.id, actorType: 'api_key', actorId: 'k1', action: 'extension.created', targetType: 'extension', targetId: 'e1' }, at(1));
  await appendAudit(t.db, { tenantId: t.tenant.id, actorType: 'user', actorId: 'u1', action: 'extension.updated', targetType: 'extension', targetId: 'e1' }, at(2));
  await appendAudit(t.db, { tenantId: t.tenant.id, actorType: 'user', actorId: 'u1', action: 'api_key.revoked', targetType: 'api_key', targetId: 'k9' }, at(3));
  await appendAudit(t.db, { tenantId: t.otherTenant.id, actorType: 'user', actorId: 'u2', action: 'extension.created' }, at(4));
});
afterEach(() => t.close());

const actions = async (query = '', key?: string) => {
  const res = await t.call('GET', `/api/v1/audit${query}`, key === undefined ? {} : { key });
  expect(res.status).toBe(200);
  return (await body(res)).data.map((e: { action: string }) => e.action);
};

describe('GET /api/v1/audit', () => {
  it("lists the tenant's entries newest first, with every field", async () => {
    expect(await actions()).toEqual(['api_key.revoked', 'extension.updated', 'extension.created']);
    const [first] = (await body(await t.call('GET', '/api/v1/audit?limit=1'))).data;
    expect(first).toMatchObject({ actor_type: 'user', actor_id: 'u1', target_type: 'api_key', target_id: 'k9', result: 'success', details: {}, created_at: '2030-01-03T00:00:00.000Z' });
    expect(await actions('', t.otherAdminKey)).toEqual(['extension.created']);
  });

  it('filters by action, actor, target and time window', async () => {
    expect(await actions('?action=extension.created')).toEqual(['extension.created']);
    expect(await actions('?actor_id=u1')).toEqual(['api_key.revoked', 'extension.updated']);
    expect(await actions('?target_type=extension&target_id=e1')).toEqual(['extension.updated', 'extension.created']);
    expect(await actions('?from=2030-01-02T00:00:00Z&to=2030-01-03T00:00:00Z')).toEqual(['extension.updated']);
    // an offset is normalised to UTC before comparing with stored instants
    expect(await actions('?from=2030-01-02T01:00:00%2B01:00')).toEqual(['api_key.revoked', 'extension.updated']);
  });

  it('records API changes as they happen (a key created through the API)', async () => {
    await t.call('POST', '/api/v1/api-keys', { body: { name: 'x', scopes: ['voip:read'] } });
    expect((await actions('?action=api_key.created')).length).toBe(1);
  });

  it('pages and validates, naming fields', async () => {
    expect((await body(await t.call('GET', '/api/v1/audit?limit=1'))).pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    expect(await actions('?offset=3')).toEqual([]);
    for (const bad of ['limit=0', 'limit=501', 'from=yesterday', 'to=2030-13-01T00:00:00Z', 'action=']) {
      const res = await t.call('GET', `/api/v1/audit?${bad}`);
      expect(res.status, bad).toBe(400);
      expect((await body(res)).error.details.map((d: { field: string }) => d.field)).toContain(bad.split('=')[0]);
    }
  });

  it('answers 401 without a key and 403 without admin', async () => {
    expect((await t.call('GET', '/api/v1/audit', { key: '' })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/audit', { key: await t.keyFor(['cdrs:read']) })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/audit', { key: await t.keyFor(['voip:read', 'voip:write']) })).status).toBe(403);
  });
});
