import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '../shared/errors.js';
import { inTransaction } from './database.js';
import { translateDbError } from './db-errors.js';
import { openTestStore, testSecretKey } from './test-helpers.js';
import { createTenant, listTenants } from './tenants/tenant.repository.js';
import { createExtension, listExtensions } from './extensions/extension.repository.js';

describe('db errors and transactions', () => {
  it('maps unique and foreign-key codes (SQLite and PostgreSQL) and passes others through', () => {
    const unique = translateDbError(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }), 'thing');
    expect(unique).toBeInstanceOf(SwitchboardError);
    expect(unique).toMatchObject({ code: 'CONFLICT', httpStatus: 409, message: 'thing already exists' });
    expect(translateDbError({ code: '23505' }, 't')).toMatchObject({ code: 'CONFLICT' });
    expect(translateDbError({ code: '23503' }, 't')).toMatchObject({ code: 'INVALID_REFERENCE' });
    const other = new Error('disk I/O');
    expect(translateDbError(other, 't')).toBe(other);
  });

  it('a repository call joins the caller’s transaction, so a later failure rolls everything back', async () => {
    const store = await openTestStore();
    await expect(
      inTransaction(store.db, async (trx) => {
        const t = await createTenant(trx, { name: 'A', sipDomain: 'a.test' });
        await createExtension(trx, testSecretKey(), { tenantId: t.id, number: '1001' });
        await createExtension(trx, testSecretKey(), { tenantId: t.id, number: '1001' });
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await listTenants(store.db)).total).toBe(0);
    await store.close();
  });

  it('a failed create leaves nothing behind', async () => {
    const store = await openTestStore();
    const t = await createTenant(store.db, { name: 'A', sipDomain: 'a.test' });
    await expect(
      createExtension(store.db, testSecretKey(), { tenantId: t.id, number: '1001', siteId: 'no-such-site' }),
    ).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect((await listExtensions(store.db, t.id)).total).toBe(0);
    await store.close();
  });
});
