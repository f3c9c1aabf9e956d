import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStore } from '../test-helpers.js';
import { createTenant, deleteTenant, findTenantBySipDomain, getTenant, listTenants, updateTenant } from './tenant.repository.js';

let store: Store;
beforeEach(async () => {
  store = await openTestStore();
});
afterEach(() => store.close());

describe('tenant repository', () => {
  it('creates, reads and finds by SIP domain', async () => {
    const t = await createTenant(store.db, { name: 'Acme', sipDomain: 'PBX.Acme.test', tenantExternalId: 'acme_1' });
    expect(t.realm).toBe('pbx.acme.test');
    expect(await getTenant(store.db, t.id)).toEqual(t);
    expect((await findTenantBySipDomain(store.db, 'pbx.acme.TEST'))?.id).toBe(t.id);
  });

  it('raises CONFLICT on a taken SIP domain or external id', async () => {
    await createTenant(store.db, { name: 'A', sipDomain: 'a.test', tenantExternalId: 'x' });
    await expect(createTenant(store.db, { name: 'B', sipDomain: 'a.test' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(createTenant(store.db, { name: 'B', sipDomain: 'b.test', tenantExternalId: 'x' })).rejects.toMatchObject({
      code: 'CONFLICT',
      httpStatus: 409,
    });
    // Several tenants may have no external id.
    await createTenant(store.db, { name: 'C', sipDomain: 'c.test' });
    await createTenant(store.db, { name: 'D', sipDomain: 'd.test' });
  });

  it('rejects external ids with other characters', async () => {
    await expect(createTenant(store.db, { name: 'A', sipDomain: 'a.test', tenantExternalId: 'a b' })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
  });

  it('lists with limit, offset, total and filters', async () => {
    for (let i = 0; i < 5; i++) await createTenant(store.db, { name: `T${i}`, sipDomain: `t${i}.test`, tenantExternalId: `e${i}` });
    const page = await listTenants(store.db, { limit: 2, offset: 3 });
    expect(page.total).toBe(5);
    const all = await listTenants(store.db, { limit: 100 });
    expect(page.items).toEqual(all.items.slice(3, 5));
    const filtered = await listTenants(store.db, { tenantExternalId: 'e2' });
    expect(filtered).toMatchObject({ total: 1, items: [{ name: 'T2' }] });
  });

  it('updates and deletes, with NOT_FOUND for a missing id', async () => {
    const t = await createTenant(store.db, { name: 'A', sipDomain: 'a.test' });
    const u = await updateTenant(store.db, t.id, { name: 'B', tenantExternalId: 'ext-9' });
    expect(u).toMatchObject({ name: 'B', tenant_external_id: 'ext-9', realm: 'a.test' });
    await deleteTenant(store.db, t.id);
    await expect(getTenant(store.db, t.id)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(updateTenant(store.db, t.id, { name: 'C' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });
});
