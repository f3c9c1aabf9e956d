import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import {
  computeHa1,
  createExtension,
  deleteExtension,
  findDigestCredentials,
  getExtension,
  getExtensionSipPassword,
  listExtensions,
  updateExtension,
} from './extension.repository.js';

let store: Store;
let tenantId: string;
const key = testSecretKey();

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('extension repository', () => {
  it('creates with defaults, stores HA1 for the tenant realm and returns the password once', async () => {
    const { extension, sipPassword } = await createExtension(store.db, key, { tenantId, number: '1001' });
    expect(sipPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(extension).toMatchObject({ number: '1001', displayName: '1001', status: 'active', dnd: false, voicemailEnabled: true });
    const creds = await findDigestCredentials(store.db, tenantId, '1001');
    const ha1 = computeHa1('1001', 'acme.test', sipPassword);
    expect(creds).toMatchObject({ extensionId: extension.id, ha1Md5: ha1.md5, ha1Sha256: ha1.sha256 });
    expect(await getExtensionSipPassword(store.db, key, tenantId, extension.id)).toBe(sipPassword);
  });

  it('keeps numbers unique per tenant only', async () => {
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await createExtension(store.db, key, { tenantId, number: '1001' });
    await createExtension(store.db, key, { tenantId: other.id, number: '1001' });
    await expect(createExtension(store.db, key, { tenantId, number: '1001' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses an unknown tenant and hides other tenants’ extensions', async () => {
    await expect(createExtension(store.db, key, { tenantId: 'nope', number: '1' })).rejects.toMatchObject({
      code: 'TENANT_NOT_FOUND',
    });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    const { extension } = await createExtension(store.db, key, { tenantId, number: '1001' });
    await expect(getExtension(store.db, other.id, extension.id)).rejects.toMatchObject({ code: 'EXTENSION_NOT_FOUND' });
  });

  it('lists by number with paging and filters', async () => {
    for (const n of ['1003', '1001', '2001', '1002']) await createExtension(store.db, key, { tenantId, number: n });
    await createExtension(store.db, key, { tenantId, number: '1004', status: 'disabled' });
    const page = await listExtensions(store.db, tenantId, { limit: 2, offset: 1 });
    expect(page.total).toBe(5);
    expect(page.items.map((e) => e.number)).toEqual(['1002', '1003']);
    expect((await listExtensions(store.db, tenantId, { numberPrefix: '10', status: 'active' })).total).toBe(3);
  });

  it('updates settings and the password together with its HA1', async () => {
    const { extension } = await createExtension(store.db, key, { tenantId, number: '1001' });
    const updated = await updateExtension(store.db, key, tenantId, extension.id, {
      dnd: true,
      codecs: ['PCMU'],
      forward: { busy: '1002' },
      sipPassword: 'n3w-Secret-pass',
    });
    expect(updated).toMatchObject({ dnd: true, codecs: ['PCMU'], forward: { busy: '1002' } });
    expect(await getExtensionSipPassword(store.db, key, tenantId, extension.id)).toBe('n3w-Secret-pass');
    expect((await findDigestCredentials(store.db, tenantId, '1001'))?.ha1Md5).toBe(
      computeHa1('1001', 'acme.test', 'n3w-Secret-pass').md5,
    );
  });

  it('fails closed when the ciphertext was moved to another row', async () => {
    const a = await createExtension(store.db, key, { tenantId, number: '1001' });
    const b = await createExtension(store.db, key, { tenantId, number: '1002' });
    const encA = await store.db.selectFrom('extensions').select('sip_password_enc').where('id', '=', a.extension.id).executeTakeFirstOrThrow();
    await store.db.updateTable('extensions').set({ sip_password_enc: encA.sip_password_enc }).where('id', '=', b.extension.id).execute();
    await expect(getExtensionSipPassword(store.db, key, tenantId, b.extension.id)).rejects.toMatchObject({
      code: 'SECRET_DECRYPT_FAILED',
    });
  });

  it('deletes, then reports NOT_FOUND', async () => {
    const { extension } = await createExtension(store.db, key, { tenantId, number: '1001' });
    await deleteExtension(store.db, tenantId, extension.id);
    await expect(deleteExtension(store.db, tenantId, extension.id)).rejects.toMatchObject({ code: 'EXTENSION_NOT_FOUND' });
  });
});
