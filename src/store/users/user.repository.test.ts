import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant } from '../test-helpers.js';
import { createUser, deleteUser, findUserForLogin, getUser, listUsers, updateUser } from './user.repository.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('user repository', () => {
  it('creates, finds for login case-insensitively, never returns the hash elsewhere', async () => {
    const u = await createUser(store.db, { tenantId, email: 'Ann@Acme.test', name: 'Ann', role: 'owner', passwordHash: '$scrypt$x' });
    expect(u).not.toHaveProperty('passwordHash');
    expect(await findUserForLogin(store.db, tenantId, 'ann@acme.TEST')).toEqual({ user: u, passwordHash: '$scrypt$x' });
    expect(await getUser(store.db, tenantId, u.id)).toEqual(u);
  });

  it('keeps emails unique per tenant and roles valid', async () => {
    await createUser(store.db, { tenantId, email: 'a@x', name: 'A', role: 'user', passwordHash: 'h' });
    await expect(createUser(store.db, { tenantId, email: 'A@x', name: 'B', role: 'user', passwordHash: 'h' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      createUser(store.db, { tenantId, email: 'c@x', name: 'C', role: 'root' as 'user', passwordHash: 'h' }),
    ).rejects.toThrow();
  });

  it('lists by role, updates and deletes', async () => {
    const a = await createUser(store.db, { tenantId, email: 'a@x', name: 'A', role: 'admin', passwordHash: 'h' });
    await createUser(store.db, { tenantId, email: 'b@x', name: 'B', role: 'user', passwordHash: 'h' });
    expect((await listUsers(store.db, tenantId, { role: 'admin' })).total).toBe(1);
    expect(await updateUser(store.db, tenantId, a.id, { role: 'owner', passwordHash: 'h2' })).toMatchObject({ role: 'owner' });
    expect((await findUserForLogin(store.db, tenantId, 'a@x'))?.passwordHash).toBe('h2');
    await deleteUser(store.db, tenantId, a.id);
    await expect(deleteUser(store.db, tenantId, a.id)).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
  });
});
