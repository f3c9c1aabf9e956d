import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { RingStep } from '../../sip/calls/ports.js';
import { createExtension, createRingGroup, getRingGroup, type NewRingGroup, type Store } from '../../store/index.js';
import { openTestStoreWithTenant, testSecretKey } from '../../store/test-helpers.js';
import { createRingGroupResolver } from './ring-group-resolver.js';

let store: Store;
let tenantId: string;
const ids: Record<string, string> = {};
const counts: Record<string, number> = {};
const calls = { activeCallCount: (id: string) => counts[id] ?? 0 };

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
  const key = testSecretKey();
  for (const n of ['1001', '1002', '1003']) ids[n] = (await createExtension(store.db, key, { tenantId, number: n })).extension.id;
  for (const k of Object.keys(counts)) delete counts[k];
});
afterEach(() => store.close());

/** A resolver as main.ts builds one; a new one per "process start". */
const resolver = () => createRingGroupResolver({ db: store.db, clock: new FakeClock(), log: pino({ level: 'silent' }), calls });
const group = (fields: Partial<NewRingGroup> = {}) =>
  createRingGroup(store.db, { tenantId, number: '600', name: 'Sales', members: ['1001', '1002', '1003'].map((n) => ({ extensionId: ids[n]! })), ...fields });
const firstIds = async (r = resolver()) => ((await (await r.resolve(tenantId, '600'))!.plan.first()) as RingStep).extensionIds;

describe('ring group resolver', () => {
  it('is undefined for a number that is no group (of this tenant)', async () => {
    await group();
    expect(await resolver().resolve(tenantId, '601')).toBeUndefined();
    expect(await resolver().resolve('another-tenant', '600')).toBeUndefined();
  });

  it('answers the group as callee, its ring time, fallback and a trace', async () => {
    await group({ strategy: 'sequential', ringTimeoutSeconds: 45, fallbackNumber: '1000', members: [{ extensionId: ids['1002']!, timeoutSeconds: 5 }, { extensionId: ids['1001']! }] });
    const target = (await resolver().resolve(tenantId, '600'))!;
    expect(target).toMatchObject({ callee: { number: '600', name: 'Sales', extensionId: null }, fallbackNumber: '1000', ringTimeoutMs: 45_000 });
    expect(target.trace[0]?.detail).toBe('ring group 600 "Sales" (sequential, 45 s): 1002 (5 s), 1001 (15 s); fallback 1000');
    expect(await target.plan.first()).toMatchObject({ kind: 'step', extensionIds: [ids['1002']], timeoutMs: 5000 });
  });

  it('simultaneous: one step with every member for the group time', async () => {
    await group({ ringTimeoutSeconds: 20 });
    const plan = (await resolver().resolve(tenantId, '600'))!.plan;
    expect(await plan.first()).toMatchObject({ extensionIds: [ids['1001'], ids['1002'], ids['1003']], timeoutMs: 20_000 });
    expect(await plan.next({ sipStatus: 480, timedOut: true })).toMatchObject({ kind: 'end', sipStatus: 480 });
  });

  it('does not ring the extensions already on the call (a member calling its own group)', async () => {
    await group();
    const target = (await resolver().resolve(tenantId, '600', { excludeExtensionIds: new Set([ids['1002']!]) }))!;
    expect(await target.plan.first()).toMatchObject({ extensionIds: [ids['1001'], ids['1003']] });
    expect(target.trace.map((e) => e.detail)).toContain('member 1002 is not rung: already on this call (the caller)');
  });

  it('traces members that would be skipped now (at their call limit)', async () => {
    await group();
    counts[ids['1002']!] = 2;
    const target = (await resolver().resolve(tenantId, '600'))!;
    expect(target.trace.map((e) => e.detail)).toContain('member 1002 would be skipped now: at its call limit (2/2)');
    expect(await target.plan.first()).toMatchObject({ extensionIds: [ids['1001'], ids['1003']] });
  });

  it('round robin: the next call starts after the member that answered, and the memory survives a restart', async () => {
    const { id } = await group({ strategy: 'round_robin' });
    const r = resolver();
    expect(await firstIds(r)).toEqual([ids['1001']]);
    const call = (await r.resolve(tenantId, '600'))!;
    await call.plan.first();
    await call.plan.next({ sipStatus: 480, timedOut: true });
    call.plan.answered(ids['1002']!);
    await r.settled();
    expect((await getRingGroup(store.db, tenantId, id)).lastAnsweredExtensionId).toBe(ids['1002']);
    // A fresh resolver (a restart) reads the memory from the store.
    expect(await firstIds(resolver())).toEqual([ids['1003']]);
    const wrap = (await r.resolve(tenantId, '600'))!;
    await wrap.plan.first();
    wrap.plan.answered(ids['1003']!);
    await r.settled();
    expect(await firstIds(r)).toEqual([ids['1001']]);
  });

  it('sequential keeps no memory: every call starts at the top', async () => {
    const { id } = await group({ strategy: 'sequential' });
    const r = resolver();
    const call = (await r.resolve(tenantId, '600'))!;
    await call.plan.first();
    call.plan.answered(ids['1001']!);
    await r.settled();
    expect((await getRingGroup(store.db, tenantId, id)).lastAnsweredExtensionId).toBeNull();
    expect(await firstIds(r)).toEqual([ids['1001']]);
  });

  it('traces the members a long hunt never reaches within the group time', async () => {
    await group({ strategy: 'sequential', ringTimeoutSeconds: 20, members: ['1001', '1002', '1003'].map((n) => ({ extensionId: ids[n]!, timeoutSeconds: 10 })) });
    const target = (await resolver().resolve(tenantId, '600'))!;
    expect(target.trace.map((e) => e.detail)).toContain("the group's 20 s end the hunt before 1003 would ring (if nobody before answers)");
  });

  it('a group without members ends at once with 480', async () => {
    await group({ members: [] });
    expect(await (await resolver().resolve(tenantId, '600'))!.plan.first()).toMatchObject({ kind: 'end', sipStatus: 480 });
  });
});
