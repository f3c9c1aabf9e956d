import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

/** A fresh key with voip:read, and a call it can make (listing keys needs admin: 403 = authenticated). */
async function newKey(scopes = ['admin']): Promise<{ id: string; key: string }> {
  return (await body(await t.call('POST', '/api/v1/api-keys', { body: { name: 'rotating', scopes } }))).data;
}
const statusWith = async (key: string) => (await t.call('GET', '/api/v1/api-keys?limit=1', { key })).status;

describe('POST /api/v1/api-keys/{id}/rotate', () => {
  it('returns a new key once; the old one stops at once without a grace period', async () => {
    const old = await newKey();
    const res = await t.call('POST', `/api/v1/api-keys/${old.id}/rotate`);
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const { data } = await body(res);
    expect(data.key).toMatch(/^sk_live_/);
    expect(data.id).not.toBe(old.id);
    expect(data).toMatchObject({ name: 'rotating', scopes: ['admin'], status: 'active' });
    expect(data.previous).toMatchObject({ id: old.id, status: 'revoked' });
    expect(await statusWith(data.key)).toBe(200);
    expect(await statusWith(old.key)).toBe(401);
  });

  it('keeps the old key working during grace_seconds', async () => {
    const old = await newKey();
    const res = await t.call('POST', `/api/v1/api-keys/${old.id}/rotate`, { body: { grace_seconds: 3600 } });
    const { data } = await body(res);
    expect(data.previous.status).toBe('active');
    expect(Date.parse(data.previous.revoked_at) - Date.now()).toBeGreaterThan(3500_000);
    expect(await statusWith(old.key)).toBe(200);
    expect(await statusWith(data.key)).toBe(200);
    // revoking ends the grace period now
    expect((await t.call('POST', `/api/v1/api-keys/${old.id}/revoke`)).status).toBe(200);
    expect(await statusWith(old.key)).toBe(401);
  });

  it('refuses to rotate a revoked or already rotated key (409) and validates grace_seconds', async () => {
    const old = await newKey();
    expect(await (await t.call('POST', `/api/v1/api-keys/${old.id}/rotate`, { body: { grace_seconds: -1 } })).json()).toMatchObject({
      error: { details: [{ field: 'grace_seconds' }] },
    });
    expect((await t.call('POST', `/api/v1/api-keys/${old.id}/rotate`, { body: { grace_seconds: 60 } })).status).toBe(201);
    const again = await t.call('POST', `/api/v1/api-keys/${old.id}/rotate`);
    expect(again.status).toBe(409);
    expect((await body(again)).error.code).toBe('API_KEY_REVOKED');
  });
});

describe('revoking', () => {
  it('POST /revoke answers the revoked key; the key then gets 401; repeating is harmless', async () => {
    const k = await newKey(['voip:read']);
    const res = await t.call('POST', `/api/v1/api-keys/${k.id}/revoke`);
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ id: k.id, status: 'revoked' });
    expect(await statusWith(k.key)).toBe(401);
    expect((await t.call('POST', `/api/v1/api-keys/${k.id}/revoke`)).status).toBe(200);
    expect((await listAudit(t.db, t.tenant.id, { action: 'api_key.revoked' })).total).toBe(1);
  });

  it('DELETE revokes with 204; the row stays listed as revoked', async () => {
    const k = await newKey();
    const res = await t.call('DELETE', `/api/v1/api-keys/${k.id}`);
    expect(res.status).toBe(204);
    expect(await statusWith(k.key)).toBe(401);
    expect((await body(await t.call('GET', `/api/v1/api-keys/${k.id}`))).data.status).toBe('revoked');
    expect((await t.call('DELETE', '/api/v1/api-keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});

describe('audit of key events', () => {
  it('records created, updated, rotated and revoked in the tenant, naming the actor, never the key', async () => {
    const k = await newKey();
    await t.call('PATCH', `/api/v1/api-keys/${k.id}`, { body: { name: 'renamed' } });
    const rotated = (await body(await t.call('POST', `/api/v1/api-keys/${k.id}/rotate`))).data;
    await t.call('DELETE', `/api/v1/api-keys/${rotated.id}`);
    const audit = await listAudit(t.db, t.tenant.id);
    expect(audit.items.map((e) => e.action).reverse()).toEqual(['api_key.created', 'api_key.updated', 'api_key.rotated', 'api_key.revoked']);
    expect(audit.items.every((e) => e.actorType === 'api_key' && e.targetType === 'api_key')).toBe(true);
    const rows = JSON.stringify(await t.db.selectFrom('audit_log').selectAll().execute());
    for (const secret of [k.key, rotated.key, t.adminKey]) expect(rows).not.toContain(secret);
    expect(rows).not.toMatch(/sk_live_[0-9a-f]{48}/);
  });
});
