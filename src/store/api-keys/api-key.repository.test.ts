import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import {
  apiKeyStatus,
  createApiKey,
  findUsableApiKey,
  getApiKey,
  hashApiKey,
  listApiKeys,
  pageApiKeys,
  revokeApiKey,
  rotateApiKey,
  touchApiKeyLastUsed,
  updateApiKey,
} from './api-key.repository.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('api key repository', () => {
  it('creates an sk_live_ key, keeps only hash and hint, finds it by the key', async () => {
    const { apiKey, key } = await createApiKey(store.db, { tenantId, name: 'crm', scopes: ['voip:read'] });
    expect(key).toMatch(/^sk_live_[0-9a-f]{48}$/);
    expect(apiKey.keyHint).toBe(key.slice(-4));
    const row = await store.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashApiKey(key));
    expect(JSON.stringify(row)).not.toContain(key);
    expect((await findUsableApiKey(store.db, key))?.id).toBe(apiKey.id);
    expect(await findUsableApiKey(store.db, `${key}0`)).toBeUndefined();
  });

  it('rejects a duplicate key with CONFLICT', async () => {
    const { key } = await createApiKey(store.db, { tenantId, name: 'a', scopes: [] });
    await expect(createApiKey(store.db, { tenantId, name: 'b', scopes: [], key })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('does not find expired or revoked keys', async () => {
    const expired = await createApiKey(store.db, { tenantId, name: 'old', scopes: [], expiresAt: '2020-01-01T00:00:00.000Z' });
    expect(await findUsableApiKey(store.db, expired.key)).toBeUndefined();
    const live = await createApiKey(store.db, { tenantId, name: 'live', scopes: ['admin'], expiresAt: '2999-01-01T00:00:00.000Z' });
    expect(await findUsableApiKey(store.db, live.key)).toBeDefined();
    const revoked = await revokeApiKey(store.db, tenantId, live.apiKey.id, '2026-01-01T00:00:00.000Z');
    expect(revoked.revokedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(await findUsableApiKey(store.db, live.key)).toBeUndefined();
    expect((await revokeApiKey(store.db, tenantId, live.apiKey.id)).revokedAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('touches last used and scopes revocation to the tenant', async () => {
    const { apiKey } = await createApiKey(store.db, { tenantId, name: 'a', scopes: ['cdrs:read'] });
    await touchApiKeyLastUsed(store.db, apiKey.id, '2026-05-05T00:00:00.000Z');
    const [listed] = await listApiKeys(store.db, tenantId);
    expect(listed).toMatchObject({ lastUsedAt: '2026-05-05T00:00:00.000Z', scopes: ['cdrs:read'] });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await expect(revokeApiKey(store.db, other.id, apiKey.id)).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
  });

  it('rotates: the old key stops working, the new one has the same name and scopes', async () => {
    const old = await createApiKey(store.db, { tenantId, name: 'crm', scopes: ['voip:read', 'cdrs:read'] });
    const rotated = await rotateApiKey(store.db, tenantId, old.apiKey.id);
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.apiKey).toMatchObject({ name: 'crm', scopes: ['voip:read', 'cdrs:read'] });
    expect(await findUsableApiKey(store.db, old.key)).toBeUndefined();
    expect((await findUsableApiKey(store.db, rotated.key))?.id).toBe(rotated.apiKey.id);
    await expect(rotateApiKey(store.db, tenantId, 'missing')).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    const expired = await createApiKey(store.db, { tenantId, name: 'old', scopes: [], expiresAt: '2020-01-01T00:00:00.000Z' });
    await expect(rotateApiKey(store.db, tenantId, expired.apiKey.id)).rejects.toMatchObject({ code: 'API_KEY_EXPIRED' });
  });

  it('rotates with a grace period: the old key works until it ends, then counts as revoked', async () => {
    const old = await createApiKey(store.db, { tenantId, name: 'crm', scopes: ['voip:read'] });
    const at = '2030-01-01T00:00:00.000Z';
    const rotated = await rotateApiKey(store.db, tenantId, old.apiKey.id, at, { graceSeconds: 60 });
    expect(rotated.revoked.revokedAt).toBe('2030-01-01T00:01:00.000Z');
    expect((await findUsableApiKey(store.db, old.key, '2030-01-01T00:00:59.000Z'))?.id).toBe(old.apiKey.id);
    expect(await findUsableApiKey(store.db, old.key, '2030-01-01T00:01:00.000Z')).toBeUndefined();
    expect(apiKeyStatus(rotated.revoked, '2030-01-01T00:00:30.000Z')).toBe('active');
    expect(apiKeyStatus(rotated.revoked, '2030-01-01T00:01:00.000Z')).toBe('revoked');
    // a second rotation of the same key would give it a second successor
    await expect(rotateApiKey(store.db, tenantId, old.apiKey.id, at)).rejects.toMatchObject({ code: 'API_KEY_REVOKED' });
    // revoking during the grace period brings the revocation forward
    expect((await revokeApiKey(store.db, tenantId, old.apiKey.id, '2030-01-01T00:00:10.000Z')).revokedAt).toBe('2030-01-01T00:00:10.000Z');
  });

  it('gets, pages and updates keys within the tenant only', async () => {
    const a = await createApiKey(store.db, { tenantId, name: 'a', scopes: ['voip:read'] });
    await createApiKey(store.db, { tenantId, name: 'b', scopes: ['cdrs:read'] });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    expect((await getApiKey(store.db, tenantId, a.apiKey.id)).name).toBe('a');
    await expect(getApiKey(store.db, other.id, a.apiKey.id)).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    const page = await pageApiKeys(store.db, tenantId, { limit: 1, sort: { field: 'name', direction: 'asc' } });
    expect(page).toMatchObject({ total: 2, items: [{ name: 'a' }] });
    const updated = await updateApiKey(store.db, tenantId, a.apiKey.id, { name: 'renamed', scopes: ['voip:write'] });
    expect(updated).toMatchObject({ name: 'renamed', scopes: ['voip:write'] });
    expect((await findUsableApiKey(store.db, a.key))?.name).toBe('renamed');
    await expect(updateApiKey(store.db, other.id, a.apiKey.id, { name: 'x' })).rejects.toMatchObject({ code: 'API_KEY_NOT_FOUND' });
  });

  it('reports expired and revoked status', () => {
    const now = '2030-01-01T00:00:00.000Z';
    expect(apiKeyStatus({ expiresAt: null, revokedAt: null }, now)).toBe('active');
    expect(apiKeyStatus({ expiresAt: '2029-01-01T00:00:00.000Z', revokedAt: null }, now)).toBe('expired');
    expect(apiKeyStatus({ expiresAt: '2029-01-01T00:00:00.000Z', revokedAt: '2028-01-01T00:00:00.000Z' }, now)).toBe('revoked');
  });
});
