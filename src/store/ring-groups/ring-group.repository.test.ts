import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createExtension, deleteExtension, updateExtension } from '../extensions/extension.repository.js';
import {
  createRingGroup,
  deleteRingGroup,
  findRingGroupByNumber,
  getRingGroup,
  listRingGroups,
  recordRingGroupAnswer,
  ringGroupNumbersWithMember,
  updateRingGroup,
} from './ring-group.repository.js';

let store: Store;
let tenantId: string;
const key = testSecretKey();
const ext = async (number: string, tenant = tenantId) => (await createExtension(store.db, key, { tenantId: tenant, number })).extension;

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('ring group repository', () => {
  it('creates with defaults and members in priority order (ties keep the given order)', async () => {
    const [a, b, c] = [await ext('1001'), await ext('1002'), await ext('1003')];
    const group = await createRingGroup(store.db, {
      tenantId,
      number: '600',
      name: 'Sales',
      members: [{ extensionId: a.id, priority: 2 }, { extensionId: b.id, priority: 1, timeoutSeconds: 10 }, { extensionId: c.id, priority: 2 }],
    });
    expect(group).toMatchObject({ number: '600', name: 'Sales', strategy: 'simultaneous', ringTimeoutSeconds: 30, memberTimeoutSeconds: 15, fallbackNumber: null });
    expect(group.members).toEqual([
      { extensionId: b.id, priority: 1, timeoutSeconds: 10 },
      { extensionId: a.id, priority: 2, timeoutSeconds: null },
      { extensionId: c.id, priority: 2, timeoutSeconds: null },
    ]);
    expect(await getRingGroup(store.db, tenantId, group.id)).toEqual(group);
    expect((await findRingGroupByNumber(store.db, tenantId, '600'))?.id).toBe(group.id);
    expect(await findRingGroupByNumber(store.db, tenantId, '601')).toBeUndefined();
  });

  it('gives members without priority their place in the list', async () => {
    const [a, b] = [await ext('1001'), await ext('1002')];
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'S', members: [{ extensionId: b.id }, { extensionId: a.id }] });
    expect(group.members.map((m) => [m.extensionId, m.priority])).toEqual([[b.id, 1], [a.id, 2]]);
  });

  it('shares the dial space with extensions, both ways, per tenant', async () => {
    await ext('1001');
    await expect(createRingGroup(store.db, { tenantId, number: '1001', name: 'x' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'x' });
    await expect(createRingGroup(store.db, { tenantId, number: '600', name: 'y' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(createExtension(store.db, key, { tenantId, number: '600' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const e2 = await ext('1002');
    await expect(updateExtension(store.db, key, tenantId, e2.id, { number: '600' } as never)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(updateRingGroup(store.db, tenantId, group.id, { number: '1002' })).rejects.toMatchObject({ code: 'CONFLICT' });
    // Keeping its own number is no conflict; another tenant may use the same numbers.
    await expect(updateRingGroup(store.db, tenantId, group.id, { number: '600', name: 'z' })).resolves.toMatchObject({ name: 'z' });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await expect(createExtension(store.db, key, { tenantId: other.id, number: '600' })).resolves.toBeDefined();
  });

  it('leaves nothing behind when a member is no extension', async () => {
    await expect(createRingGroup(store.db, { tenantId, number: '600', name: 'x', members: [{ extensionId: 'nope' }] })).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect((await listRingGroups(store.db, tenantId)).total).toBe(0);
  });

  it('replaces members on update, atomically', async () => {
    const [a, b] = [await ext('1001'), await ext('1002')];
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'x', members: [{ extensionId: a.id }] });
    const updated = await updateRingGroup(store.db, tenantId, group.id, { strategy: 'sequential', members: [{ extensionId: b.id }, { extensionId: a.id }] });
    expect(updated.strategy).toBe('sequential');
    expect(updated.members.map((m) => m.extensionId)).toEqual([b.id, a.id]);
    await expect(updateRingGroup(store.db, tenantId, group.id, { name: 'lost', members: [{ extensionId: 'nope' }] })).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect(await getRingGroup(store.db, tenantId, group.id)).toMatchObject({ name: 'x', members: [{ extensionId: b.id }, { extensionId: a.id }] });
  });

  it('lists with filters and pagination, members included', async () => {
    const a = await ext('1001');
    await createRingGroup(store.db, { tenantId, number: '602', name: 'B', strategy: 'round_robin', members: [{ extensionId: a.id }] });
    await createRingGroup(store.db, { tenantId, number: '601', name: 'C' });
    await createRingGroup(store.db, { tenantId, number: '700', name: 'A', strategy: 'sequential' });
    const all = await listRingGroups(store.db, tenantId, { limit: 2 });
    expect(all.total).toBe(3);
    expect(all.items.map((g) => g.number)).toEqual(['601', '602']);
    expect((await listRingGroups(store.db, tenantId, { sort: { field: 'name', direction: 'asc' } })).items.map((g) => g.name)).toEqual(['A', 'B', 'C']);
    expect((await listRingGroups(store.db, tenantId, { numberPrefix: '60' })).total).toBe(2);
    expect((await listRingGroups(store.db, tenantId, { strategy: 'sequential' })).items.map((g) => g.number)).toEqual(['700']);
    const withA = await listRingGroups(store.db, tenantId, { extensionId: a.id });
    expect(withA.items.map((g) => [g.number, g.members.length])).toEqual([['602', 1]]);
  });

  it('isolates tenants', async () => {
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'x' });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await expect(getRingGroup(store.db, other.id, group.id)).rejects.toMatchObject({ code: 'RING_GROUP_NOT_FOUND' });
    await expect(deleteRingGroup(store.db, other.id, group.id)).rejects.toMatchObject({ code: 'RING_GROUP_NOT_FOUND' });
    expect((await listRingGroups(store.db, other.id)).total).toBe(0);
  });

  it('drops a deleted extension from its groups, and from the round-robin memory', async () => {
    const [a, b] = [await ext('1001'), await ext('1002')];
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'x', strategy: 'round_robin', members: [{ extensionId: a.id }, { extensionId: b.id }] });
    await recordRingGroupAnswer(store.db, group.id, a.id);
    expect((await getRingGroup(store.db, tenantId, group.id)).lastAnsweredExtensionId).toBe(a.id);
    expect(await ringGroupNumbersWithMember(store.db, tenantId, a.id)).toEqual(['600']);
    await deleteExtension(store.db, tenantId, a.id);
    const after = await getRingGroup(store.db, tenantId, group.id);
    expect(after.members.map((m) => m.extensionId)).toEqual([b.id]);
    expect(after.lastAnsweredExtensionId).toBeNull();
  });

  it('remembers only members as the last to answer', async () => {
    const [a, b] = [await ext('1001'), await ext('1002')];
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'x', members: [{ extensionId: a.id }] });
    await recordRingGroupAnswer(store.db, group.id, b.id);
    expect((await getRingGroup(store.db, tenantId, group.id)).lastAnsweredExtensionId).toBeNull();
  });

  it('deletes a group with its members', async () => {
    const a = await ext('1001');
    const group = await createRingGroup(store.db, { tenantId, number: '600', name: 'x', members: [{ extensionId: a.id }] });
    await deleteRingGroup(store.db, tenantId, group.id);
    await expect(getRingGroup(store.db, tenantId, group.id)).rejects.toMatchObject({ code: 'RING_GROUP_NOT_FOUND' });
    expect(await ringGroupNumbersWithMember(store.db, tenantId, a.id)).toEqual([]);
    // The number is free again for an extension.
    await expect(ext('600')).resolves.toBeDefined();
  });
});
