import type { KyselyPlugin, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import {
  computeHa1,
  createExtension,
  deleteExtension,
  extensionNumbers,
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

describe('extension repository: sorting, number lookups and renumbering', () => {
  it('sorts on the allowed columns either way and filters by exact number', async () => {
    for (const [number, displayName] of [['1002', 'Alice'], ['1001', 'Carol'], ['1010', 'Bob']] as const) {
      await createExtension(store.db, key, { tenantId, number, displayName });
    }
    const numbers = async (sort?: Parameters<typeof listExtensions>[2]) =>
      (await listExtensions(store.db, tenantId, sort)).items.map((e) => e.number);
    expect(await numbers()).toEqual(['1001', '1002', '1010']);
    expect(await numbers({ sort: { field: 'display_name', direction: 'asc' } })).toEqual(['1002', '1010', '1001']);
    expect(await numbers({ sort: { field: 'number', direction: 'desc' } })).toEqual(['1010', '1002', '1001']);
    expect(await numbers({ number: '1002' })).toEqual(['1002']);
    expect(await numbers({ number: '100' })).toEqual([]);
  });

  it('maps ids to numbers within the tenant only', async () => {
    const a = (await createExtension(store.db, key, { tenantId, number: '1001' })).extension;
    const otherTenant = (await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' })).id;
    const b = (await createExtension(store.db, key, { tenantId: otherTenant, number: '2001' })).extension;
    expect(await extensionNumbers(store.db, tenantId, [a.id, b.id, a.id])).toEqual(new Map([[a.id, '1001']]));
    expect(await extensionNumbers(store.db, tenantId, [])).toEqual(new Map());
  });

  it('renumbering recomputes HA1 from the stored password, or from a new one given with it', async () => {
    const { extension, sipPassword } = await createExtension(store.db, key, { tenantId, number: '1001' });
    await updateExtension(store.db, key, tenantId, extension.id, { number: '1101' });
    expect((await findDigestCredentials(store.db, tenantId, '1101'))?.ha1Md5).toBe(computeHa1('1101', 'acme.test', sipPassword).md5);
    expect(await findDigestCredentials(store.db, tenantId, '1001')).toBeUndefined();
    await updateExtension(store.db, key, tenantId, extension.id, { number: '1201', sipPassword: 'another-password-42' });
    expect((await findDigestCredentials(store.db, tenantId, '1201'))?.ha1Sha256).toBe(
      computeHa1('1201', 'acme.test', 'another-password-42').sha256,
    );
    expect(await getExtensionSipPassword(store.db, key, tenantId, extension.id)).toBe('another-password-42');
  });

  it('renumbering onto a taken number is a CONFLICT and changes nothing', async () => {
    await createExtension(store.db, key, { tenantId, number: '1002' });
    const { extension } = await createExtension(store.db, key, { tenantId, number: '1001' });
    await expect(updateExtension(store.db, key, tenantId, extension.id, { number: '1002' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await getExtension(store.db, tenantId, extension.id)).number).toBe('1001');
  });

  it('reads no secret column when it returns extensions', async () => {
    const { extension } = await createExtension(store.db, key, { tenantId, number: '1001' });
    // Every raw row the driver hands back, before the repository maps it.
    const rows: UnknownRow[] = [];
    const recorder: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
        rows.push(...args.result.rows);
        return args.result;
      },
    };
    const db = store.db.withPlugin(recorder);
    await listExtensions(db, tenantId);
    await getExtension(db, tenantId, extension.id);
    await updateExtension(db, key, tenantId, extension.id, { displayName: 'Renamed' });
    const listed = rows.filter((r) => r.id === extension.id);
    expect(listed.length).toBeGreaterThanOrEqual(3);
    for (const row of listed) {
      expect(Object.keys(row)).not.toEqual(expect.arrayContaining(['ha1_md5']));
      expect(row).not.toHaveProperty('ha1_sha256');
      expect(row).not.toHaveProperty('sip_password_enc');
    }
  });
});
