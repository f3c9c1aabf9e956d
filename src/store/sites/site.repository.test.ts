import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createExtension, getExtension } from '../extensions/extension.repository.js';
import { createSite, deleteSite, findSiteByStoreId, getSite, listSites, updateSite } from './site.repository.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('site repository', () => {
  it('creates, finds by store id, lists, updates', async () => {
    const s = await createSite(store.db, { tenantId, name: 'Berlin', storeId: 'S-001' });
    await createSite(store.db, { tenantId, name: 'Aachen' });
    expect((await findSiteByStoreId(store.db, tenantId, 'S-001'))?.id).toBe(s.id);
    expect((await listSites(store.db, tenantId)).items.map((x) => x.name)).toEqual(['Aachen', 'Berlin']);
    expect(await updateSite(store.db, tenantId, s.id, { timezone: 'Europe/Berlin' })).toMatchObject({ timezone: 'Europe/Berlin' });
  });

  it('keeps store ids unique per tenant', async () => {
    await createSite(store.db, { tenantId, name: 'A', storeId: 'S-1' });
    await expect(createSite(store.db, { tenantId, name: 'B', storeId: 'S-1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await createSite(store.db, { tenantId: other.id, name: 'B', storeId: 'S-1' });
  });

  it('deleting a site leaves its extensions without a site', async () => {
    const s = await createSite(store.db, { tenantId, name: 'A' });
    const { extension } = await createExtension(store.db, testSecretKey(), { tenantId, number: '1001', siteId: s.id });
    await deleteSite(store.db, tenantId, s.id);
    expect((await getExtension(store.db, tenantId, extension.id)).siteId).toBeNull();
    await expect(getSite(store.db, tenantId, s.id)).rejects.toMatchObject({ code: 'SITE_NOT_FOUND' });
  });
});
