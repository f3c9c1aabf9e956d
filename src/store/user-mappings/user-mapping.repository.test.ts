import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { createExtension, deleteExtension } from '../extensions/extension.repository.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createUser, deleteUser } from '../users/user.repository.js';
import { deleteUserMapping, findMappingTargets, getUserMapping, listUserMappings, upsertUserMapping } from './user-mapping.repository.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

const ext = async (number: string, tenant = tenantId) => (await createExtension(store.db, testSecretKey(), { tenantId: tenant, number })).extension;
const base = { externalSystem: 'crm', userId: null, displayName: null };

describe('user mapping repository', () => {
  it('upserts by (system, external id), joining the extension number', async () => {
    const e1 = await ext('1001');
    const e2 = await ext('1002');
    const first = await upsertUserMapping(store.db, { ...base, tenantId, externalUserId: 'u1', extensionId: e1.id });
    expect(first.created).toBe(true);
    expect(first.mapping).toMatchObject({ externalUserId: 'u1', extensionId: e1.id, extensionNumber: '1001' });
    const second = await upsertUserMapping(store.db, { ...base, tenantId, externalUserId: 'u1', extensionId: e2.id, displayName: 'Ann' });
    expect(second).toMatchObject({ created: false, mapping: { id: first.mapping.id, extensionNumber: '1002', displayName: 'Ann' } });
    // another system's id of the same value is another mapping
    await upsertUserMapping(store.db, { ...base, tenantId, externalSystem: 'helpdesk', externalUserId: 'u1', extensionId: e1.id });
    expect((await listUserMappings(store.db, tenantId)).total).toBe(2);
    expect((await listUserMappings(store.db, tenantId, { extensionId: e1.id })).items.map((m) => m.externalSystem)).toEqual(['helpdesk']);
  });

  it('deletes, and cascades / nulls with the extension and the user', async () => {
    const e = await ext('1001');
    const user = await createUser(store.db, { tenantId, email: 'a@x.test', name: 'A', role: 'user', passwordHash: 'x' });
    await upsertUserMapping(store.db, { ...base, tenantId, externalUserId: 'u1', extensionId: e.id, userId: user.id });
    await upsertUserMapping(store.db, { ...base, tenantId, externalUserId: 'u2', extensionId: null, userId: user.id });
    await deleteUser(store.db, tenantId, user.id);
    expect((await getUserMapping(store.db, tenantId, 'crm', 'u2')).userId).toBeNull();
    await deleteExtension(store.db, tenantId, e.id);
    await expect(getUserMapping(store.db, tenantId, 'crm', 'u1')).rejects.toMatchObject({ code: 'USER_MAPPING_NOT_FOUND' });
    expect((await deleteUserMapping(store.db, tenantId, 'crm', 'u2')).externalUserId).toBe('u2');
    await expect(deleteUserMapping(store.db, tenantId, 'crm', 'u2')).rejects.toMatchObject({ code: 'USER_MAPPING_NOT_FOUND' });
  });

  it("finds only the tenant's extensions and users", async () => {
    const mine = await ext('1001');
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    const theirs = await ext('2001', other.id);
    const t = await findMappingTargets(store.db, tenantId, { extensionIds: [mine.id, theirs.id], extensionNumbers: ['1001', '2001'], userIds: ['nope'] });
    expect([...t.extensionIds]).toEqual([mine.id]);
    expect([...t.extensionByNumber]).toEqual([['1001', mine.id]]);
    expect(t.userIds.size).toBe(0);
  });
});
