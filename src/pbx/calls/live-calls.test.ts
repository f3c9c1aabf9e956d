import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeCallLegs } from '../../../test/support/fake-call-legs.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { EventBus } from '../../events/event-bus.js';
import type { CallParty, PbxEvents } from '../../events/pbx-events.js';
import { createTenant, findCall, getCdrByCall, type Store } from '../../store/index.js';
import { openTestStoreWithTenant } from '../../store/test-helpers.js';
import { CallService } from './call-service.js';
import { LiveCalls, type Originator } from './live-calls.js';

const alice: CallParty = { number: '1001', name: 'Alice', extensionId: 'ext-a' };
const bob: CallParty = { number: '1002', name: 'Bob', extensionId: 'ext-b' };

let store: Store;
let tenantId: string;
let otherTenantId: string;
let clock: FakeClock;
let service: CallService;
let live: LiveCalls;

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
  otherTenantId = (await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' })).id;
  clock = new FakeClock(Date.parse('2026-11-21T10:00:00.000Z'));
  service = new CallService({ db: store.db, bus: new EventBus<PbxEvents>(), clock, instanceId: 'i', log: pino({ level: 'silent' }), ringTimeoutMs: 30_000, maxCallsPerExtension: 4 });
  live = new LiveCalls(service);
});
afterEach(() => store.close());

async function start(onAbort?: () => void, tenant = tenantId): Promise<string> {
  const started = await service.startCall({ tenantId: tenant, direction: 'internal', caller: alice, callee: bob, ...(onAbort ? { onAbort } : {}) });
  if (!started.ok) throw new Error('refused');
  return started.callId;
}

/** An answered call with fake legs that report their hang-up like the bridge does. */
async function answered(): Promise<{ id: string; legs: FakeCallLegs }> {
  const id = await start();
  clock.advance(1500);
  await service.answer(id, 'ext-b');
  const legs = new FakeCallLegs(() => void service.apply(id, { type: 'hangup' }));
  service.attachLegs(id, legs);
  return { id, legs };
}

describe('LiveCalls', () => {
  it('lists and reads the tenant’s live calls only, with answer time and who answered', async () => {
    const ringing = await start();
    const { id } = await answered();
    await start(undefined, otherTenantId);
    expect(live.list(tenantId).map((c) => c.id)).toEqual([ringing, id]);
    expect(live.get(tenantId, id)).toMatchObject({ state: 'ANSWERED', direction: 'internal', answeredAt: '2026-11-21T10:00:01.500Z', answeredExtensionId: 'ext-b', caller: alice, callee: bob });
    expect(live.get(tenantId, ringing)).toMatchObject({ state: 'INITIATED', answeredAt: null });
    expect(live.get(otherTenantId, id)).toBeUndefined();
  });

  it('hangs up an answered call through its legs: COMPLETED, gone from the list', async () => {
    const { id, legs } = await answered();
    expect(await live.hangUp(tenantId, id)).toEqual({ ok: true });
    expect(legs.calls).toEqual(['hangUp']);
    await vi.waitFor(async () => expect(await getCdrByCall(store.db, tenantId, id)).toMatchObject({ disposition: 'answered', hangup_cause: 'NORMAL_CLEARING' }));
    expect(live.get(tenantId, id)).toBeUndefined();
    expect(await live.hangUp(tenantId, id)).toEqual({ ok: false, reason: 'not_found' });
  });

  it('hangs up a ringing call as a caller CANCEL would: CANCELLED, and the signalling side is told', async () => {
    const onAbort = vi.fn();
    const id = await start(onAbort);
    await service.apply(id, { type: 'ring' });
    expect(await live.hangUp(tenantId, id)).toEqual({ ok: true });
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(await findCall(store.db, tenantId, id)).toMatchObject({ state: 'CANCELLED' });
    expect(await getCdrByCall(store.db, tenantId, id)).toMatchObject({ disposition: 'cancelled', sip_status: 487 });
    // The ring timer went with the call: nothing fires later.
    clock.advance(60_000);
    expect(onAbort).toHaveBeenCalledTimes(1);
  });

  it('another tenant can neither hang up nor steer a call', async () => {
    const { id, legs } = await answered();
    for (const result of [
      await live.hangUp(otherTenantId, id), await live.hold(otherTenantId, id), await live.unhold(otherTenantId, id),
      await live.transfer(otherTenantId, id, '1003'), await live.cancelTransfer(otherTenantId, id),
    ]) expect(result).toEqual({ ok: false, reason: 'not_found' });
    expect(legs.calls).toEqual([]);
  });

  it('holds, unholds, transfers and cancels a transfer through the legs once answered', async () => {
    const { id, legs } = await answered();
    expect(await live.hold(tenantId, id)).toEqual({ ok: true });
    expect(await live.unhold(tenantId, id)).toEqual({ ok: true });
    expect(await live.cancelTransfer(tenantId, id)).toEqual({ ok: false, reason: 'no_pending_transfer' });
    expect(await live.transfer(tenantId, id, '1003')).toEqual({ ok: true });
    expect(await live.cancelTransfer(tenantId, id)).toEqual({ ok: true });
    expect(legs.calls).toEqual(['hold', 'unhold', 'cancelTransfer', 'transfer 1003', 'cancelTransfer']);
  });

  it('refuses hold, unhold and transfer before the answer', async () => {
    const id = await start();
    expect(await live.hold(tenantId, id)).toEqual({ ok: false, reason: 'not_answered' });
    expect(await live.unhold(tenantId, id)).toEqual({ ok: false, reason: 'not_answered' });
    expect(await live.transfer(tenantId, id, '1003')).toEqual({ ok: false, reason: 'not_answered' });
    expect(await live.cancelTransfer(tenantId, id)).toEqual({ ok: false, reason: 'not_answered' });
  });

  it('passes a failure of the legs on (the phone refused the hold)', async () => {
    const { id, legs } = await answered();
    legs.failWith = new Error('488 from the phone');
    await expect(live.hold(tenantId, id)).rejects.toThrow('488');
  });

  it('originates through the SIP side and answers with the live call; a refusal carries its status', async () => {
    expect(live.canOriginate).toBe(false);
    await expect(live.originate({ tenantId, extensionId: 'ext-a', to: '1002', callerId: null, ringTimeoutMs: 30_000 })).rejects.toThrow('not available');
    const originator: Originator = {
      originate: vi.fn(async (input) => {
        const started = await service.startCall({ tenantId: input.tenantId, direction: 'internal', caller: alice, callee: { ...bob, number: input.to } });
        if (input.to === '404') {
          await service.apply(started.callId, { type: 'fail', sipStatus: 404, cause: 'UNALLOCATED_NUMBER' });
          return { ok: false, callId: started.callId, sipStatus: 404, refusedBy: 'destination' as const };
        }
        return { ok: true, callId: started.callId };
      }),
    };
    live.useOriginator(originator);
    const ok = await live.originate({ tenantId, extensionId: 'ext-a', to: '1002', callerId: null, ringTimeoutMs: 30_000 });
    expect(ok).toMatchObject({ ok: true, call: { state: 'INITIATED', caller: alice } });
    expect(await live.originate({ tenantId, extensionId: 'ext-a', to: '404', callerId: null, ringTimeoutMs: 30_000 })).toMatchObject({ ok: false, sipStatus: 404, refusedBy: 'destination' });
  });
});

describe('CallService.abort', () => {
  it('does nothing to an answered or unknown call', async () => {
    const onAbort = vi.fn();
    const id = await start(onAbort);
    await service.answer(id, 'ext-b');
    expect(await service.abort(id)).toBe(false);
    expect(await service.abort('nope')).toBe(false);
    expect(onAbort).not.toHaveBeenCalled();
    expect(service.get(id)?.state).toBe('ANSWERED');
  });
});
