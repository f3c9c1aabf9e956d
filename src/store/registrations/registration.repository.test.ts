import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStore, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createExtension, deleteExtension } from '../extensions/extension.repository.js';
import {
  applyRegistrationChanges,
  countLiveRegistrations,
  deleteExpiredRegistrations,
  deleteRegistrationById,
  getRegistration,
  deleteRegistration,
  deleteRegistrationsOfExtension,
  listRegistrations,
  loadLiveRegistrations,
  upsertRegistration,
  type RegistrationInput,
} from './registration.repository.js';

let store: Store;
let tenantId: string;
let extensionId: string;

const binding = (over: Partial<RegistrationInput> = {}): RegistrationInput => ({
  tenantId,
  extensionId,
  aor: 'sip:1001@acme.test',
  contactUri: 'sip:1001@10.0.0.5:5060',
  expiresAt: '2999-01-01T00:00:00.000Z',
  userAgent: 'Yealink',
  transport: 'udp',
  sourceAddress: '203.0.113.7',
  sourcePort: 40000,
  connectionId: null,
  callId: 'c1',
  cseq: 1,
  instanceId: null,
  ...over,
});

beforeEach(async () => {
  store = await openTestStore();
  tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test' })).id;
  extensionId = (await createExtension(store.db, testSecretKey(), { tenantId, number: '1001' })).extension.id;
});
afterEach(() => store.close());

describe('registration repository', () => {
  it('inserts, then refreshes the same contact in place', async () => {
    const first = await upsertRegistration(store.db, binding(), '2026-01-01T00:00:00.000Z');
    const again = await upsertRegistration(store.db, binding({ cseq: 2, sourcePort: 40001 }), '2026-01-01T00:01:00.000Z');
    expect(again).toMatchObject({ id: first.id, createdAt: first.createdAt, cseq: 2, sourcePort: 40001 });
    await upsertRegistration(store.db, binding({ contactUri: 'sip:1001@10.0.0.6:5060' }));
    expect((await listRegistrations(store.db, tenantId)).total).toBe(2);
  });

  it('hides and sweeps expired bindings', async () => {
    await upsertRegistration(store.db, binding({ contactUri: 'sip:a@x', expiresAt: '2020-01-01T00:00:00.000Z' }));
    await upsertRegistration(store.db, binding({ contactUri: 'sip:b@x' }));
    expect((await listRegistrations(store.db, tenantId)).items.map((r) => r.contactUri)).toEqual(['sip:b@x']);
    expect((await listRegistrations(store.db, tenantId, { now: null })).total).toBe(2);
    expect(await deleteExpiredRegistrations(store.db)).toBe(1);
    expect((await listRegistrations(store.db, tenantId, { now: null })).total).toBe(1);
  });

  it('filters and deletes one or all of an extension’s bindings', async () => {
    await upsertRegistration(store.db, binding({ contactUri: 'sip:a@x', transport: 'wss' }));
    await upsertRegistration(store.db, binding({ contactUri: 'sip:b@x' }));
    expect((await listRegistrations(store.db, tenantId, { transport: 'wss' })).total).toBe(1);
    expect(await deleteRegistration(store.db, extensionId, 'sip:a@x')).toBe(true);
    expect(await deleteRegistration(store.db, extensionId, 'sip:a@x')).toBe(false);
    expect(await deleteRegistrationsOfExtension(store.db, extensionId)).toHaveLength(1);
  });

  it('goes with its extension (cascade) and refuses an unknown extension', async () => {
    await upsertRegistration(store.db, binding());
    await deleteExtension(store.db, tenantId, extensionId);
    expect((await listRegistrations(store.db, tenantId, { now: null })).total).toBe(0);
    await expect(upsertRegistration(store.db, binding())).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
  });

  it('reloads every tenant’s live bindings for a restart', async () => {
    await upsertRegistration(store.db, binding({ contactUri: 'sip:a@x' }));
    await upsertRegistration(store.db, binding({ contactUri: 'sip:old@x', expiresAt: '2020-01-01T00:00:00.000Z' }));
    expect((await loadLiveRegistrations(store.db)).map((r) => r.contactUri)).toEqual(['sip:a@x']);
  });

  it('applies a batch of upserts and deletes in order, in one transaction, keeping a row id on conflict', async () => {
    const first = await upsertRegistration(store.db, binding({ contactUri: 'sip:a@x' }));
    const row = (contactUri: string, cseq: number) => ({
      ...binding({ contactUri, cseq }), id: `new-${contactUri}`, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
    });
    await applyRegistrationChanges(store.db, [
      { kind: 'upsert', registration: row('sip:a@x', 7) },
      { kind: 'upsert', registration: row('sip:b@x', 1) },
      { kind: 'upsert', registration: row('sip:b@x', 2) },
      { kind: 'delete', extensionId, contactUri: 'sip:b@x' },
      { kind: 'upsert', registration: row('sip:c@x', 1) },
    ]);
    const items = (await listRegistrations(store.db, tenantId)).items;
    expect(items.map((r) => [r.contactUri, r.cseq]).sort()).toEqual([['sip:a@x', 7], ['sip:c@x', 1]]);
    expect(items.find((r) => r.contactUri === 'sip:a@x')?.id).toBe(first.id);
    await applyRegistrationChanges(store.db, [{ kind: 'delete-extension', extensionId }]);
    expect((await listRegistrations(store.db, tenantId)).total).toBe(0);
    // A binding of an extension that is gone fails the whole batch (the writer retries units alone).
    await expect(applyRegistrationChanges(store.db, [{ kind: 'upsert', registration: { ...row('sip:z@x', 1), extensionId: 'gone' } }])).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
  });
});

describe('registration repository: lookups for the API', () => {
  it('gets a live binding by id within its tenant only', async () => {
    const live = await upsertRegistration(store.db, binding());
    const expired = await upsertRegistration(store.db, binding({ contactUri: 'sip:old@x', expiresAt: '2020-01-01T00:00:00.000Z' }));
    expect((await getRegistration(store.db, tenantId, live.id)).contactUri).toBe(live.contactUri);
    await expect(getRegistration(store.db, tenantId, expired.id)).rejects.toMatchObject({ code: 'REGISTRATION_NOT_FOUND' });
    const other = (await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' })).id;
    await expect(getRegistration(store.db, other, live.id)).rejects.toMatchObject({ code: 'REGISTRATION_NOT_FOUND' });
  });

  it('counts live bindings per extension in one query', async () => {
    const second = (await createExtension(store.db, testSecretKey(), { tenantId, number: '1002' })).extension.id;
    await upsertRegistration(store.db, binding({ contactUri: 'sip:a@x' }));
    await upsertRegistration(store.db, binding({ contactUri: 'sip:b@x' }));
    await upsertRegistration(store.db, binding({ contactUri: 'sip:c@x', expiresAt: '2020-01-01T00:00:00.000Z' }));
    expect(await countLiveRegistrations(store.db, tenantId, [extensionId, second])).toEqual(new Map([[extensionId, 2]]));
    expect(await countLiveRegistrations(store.db, tenantId, [])).toEqual(new Map());
  });

  it('filters by extension number and sorts on the allowed columns', async () => {
    const second = (await createExtension(store.db, testSecretKey(), { tenantId, number: '1002' })).extension.id;
    await upsertRegistration(store.db, binding({ contactUri: 'sip:a@x', expiresAt: '2999-01-02T00:00:00.000Z' }));
    await upsertRegistration(store.db, binding({ extensionId: second, contactUri: 'sip:b@x', expiresAt: '2999-01-01T00:00:00.000Z' }));
    const byNumber = await listRegistrations(store.db, tenantId, { extensionNumber: '1002' });
    expect(byNumber.items.map((r) => r.contactUri)).toEqual(['sip:b@x']);
    const byExpiry = await listRegistrations(store.db, tenantId, { sort: { field: 'expires_at', direction: 'asc' } });
    expect(byExpiry.items.map((r) => r.contactUri)).toEqual(['sip:b@x', 'sip:a@x']);
  });

  it('deletes one binding by id within its tenant', async () => {
    const live = await upsertRegistration(store.db, binding());
    const other = (await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' })).id;
    await expect(deleteRegistrationById(store.db, other, live.id)).rejects.toMatchObject({ code: 'REGISTRATION_NOT_FOUND' });
    expect((await deleteRegistrationById(store.db, tenantId, live.id)).id).toBe(live.id);
    expect((await listRegistrations(store.db, tenantId, { now: null })).total).toBe(0);
  });
});
