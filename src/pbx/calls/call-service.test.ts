import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { EventBus } from '../../events/event-bus.js';
import type { CallParty, PbxEvents } from '../../events/pbx-events.js';
import { createCall, findCall, getCdrByCall, type Store } from '../../store/index.js';
import { openTestStoreWithTenant } from '../../store/test-helpers.js';
import { CallService, type CallServiceOptions } from './call-service.js';

const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const alice: CallParty = { number: '1001', name: 'Alice', extensionId: 'ext-a' };
const bob: CallParty = { number: '1002', name: 'Bob', extensionId: 'ext-b' };
const carol: CallParty = { number: '1003', name: 'Carol', extensionId: 'ext-c' };

let store: Store;
let tenantId: string;
let clock: FakeClock;
let bus: EventBus<PbxEvents>;
let events: Array<[string, unknown]>;

function service(over: Partial<CallServiceOptions> = {}): CallService {
  return new CallService({ db: store.db, bus, clock, instanceId: 'inst-1', log: pino({ level: 'silent' }), ringTimeoutMs: 30_000, maxCallsPerExtension: 2, ...over });
}

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
  clock = new FakeClock(t0);
  bus = new EventBus<PbxEvents>();
  events = [];
  for (const type of ['call.start', 'call.ringing', 'call.answered', 'call.ended', 'extension.status', 'call.hold', 'call.unhold', 'call.transfer'] as const) {
    bus.on(type, (payload) => events.push([type, payload]));
  }
});
afterEach(() => store.close());

const eventTypes = (): string[] => events.map(([type]) => type);

describe('CallService', () => {
  it('a call rings, is answered and hung up: persisted at each step, events in order, CDR written at the end', async () => {
    const calls = service();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob, sipCallId: 'c1@x' });
    if (!started.ok) throw new Error('refused');
    const id = started.callId;
    expect(await findCall(store.db, tenantId, id)).toMatchObject({ state: 'INITIATED', sip_call_id: 'c1@x', instance_id: 'inst-1' });
    expect(calls.activeCallCount('ext-a')).toBe(1);
    expect(calls.activeCallCount('ext-b')).toBe(1);

    clock.advance(2000);
    await calls.apply(id, { type: 'ring' });
    expect(await findCall(store.db, tenantId, id)).toMatchObject({ state: 'RINGING' });
    clock.advance(3000);
    await calls.apply(id, { type: 'answer' });
    expect(await findCall(store.db, tenantId, id)).toMatchObject({ state: 'ANSWERED', answered_at: '2026-11-21T10:00:05.000Z' });
    // Answered: the ring timer must not end the call any more.
    clock.advance(60_000);
    expect(calls.get(id)?.state).toBe('ANSWERED');
    await calls.apply(id, { type: 'hangup' });

    expect(calls.get(id)).toBeUndefined();
    expect(calls.activeCallCount('ext-a')).toBe(0);
    expect(await getCdrByCall(store.db, tenantId, id)).toMatchObject({ disposition: 'answered', duration_seconds: 65, billable_seconds: 60, hangup_cause: 'NORMAL_CLEARING', sip_status: 200 });
    expect(eventTypes()).toEqual(['call.start', 'extension.status', 'extension.status', 'call.ringing', 'call.answered', 'call.ended', 'extension.status', 'extension.status']);
    expect(events.find(([t]) => t === 'call.ended')?.[1]).toMatchObject({ callId: id, state: 'COMPLETED', disposition: 'answered', billableSeconds: 60 });
    expect(events.filter(([t]) => t === 'extension.status').map(([, p]) => (p as { status: string }).status)).toEqual(['in_call', 'in_call', 'idle', 'idle']);
  });

  it('a second 180 from another fork publishes call.ringing once', async () => {
    const calls = service();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    if (!started.ok) throw new Error('refused');
    await calls.apply(started.callId, { type: 'ring' });
    const again = await calls.apply(started.callId, { type: 'ring' });
    expect(again).toEqual({ ok: true, state: 'RINGING', changed: false });
    expect(eventTypes().filter((t) => t === 'call.ringing')).toHaveLength(1);
  });

  it.each([
    [{ type: 'busy', sipStatus: 486 }, 'BUSY', 'busy', 486],
    [{ type: 'cancel' }, 'CANCELLED', 'cancelled', 487],
    [{ type: 'fail', sipStatus: 404, cause: 'UNALLOCATED_NUMBER' }, 'FAILED', 'failed', 404],
  ] as const)('%o ends the call %s with its CDR', async (event, state, disposition, sipStatus) => {
    const calls = service();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    if (!started.ok) throw new Error('refused');
    await calls.apply(started.callId, { type: 'ring' });
    expect(await calls.apply(started.callId, event)).toMatchObject({ ok: true, state });
    expect(await getCdrByCall(store.db, tenantId, started.callId)).toMatchObject({ disposition, sip_status: sipStatus, billable_seconds: 0 });
  });

  it('rejects illegal events and ignores events for calls it does not own', async () => {
    const calls = service();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    if (!started.ok) throw new Error('refused');
    expect(await calls.apply(started.callId, { type: 'hangup' })).toEqual({ ok: false, from: 'INITIATED', event: 'hangup' });
    await calls.apply(started.callId, { type: 'cancel' });
    // A 200 that crossed our CANCEL: the call is gone, nothing changes.
    expect(await calls.apply(started.callId, { type: 'answer' })).toEqual({ ok: false, from: 'UNKNOWN', event: 'answer' });
    expect(await findCall(store.db, tenantId, started.callId)).toMatchObject({ state: 'CANCELLED' });
  });

  it('applies racing events of one call in arrival order', async () => {
    const calls = service();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    if (!started.ok) throw new Error('refused');
    const results = await Promise.all([calls.apply(started.callId, { type: 'answer' }), calls.apply(started.callId, { type: 'cancel' }), calls.apply(started.callId, { type: 'hangup' })]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(await getCdrByCall(store.db, tenantId, started.callId)).toMatchObject({ disposition: 'answered' });
  });

  it('the ring timeout ends an unanswered call as NO_ANSWER (480) and tells the signalling side', async () => {
    const calls = service({ ringTimeoutMs: 10_000 });
    const onRingTimeout = vi.fn();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob, onRingTimeout });
    if (!started.ok) throw new Error('refused');
    await calls.apply(started.callId, { type: 'ring' });
    clock.advance(9_999);
    expect(onRingTimeout).not.toHaveBeenCalled();
    clock.advance(1);
    await vi.waitFor(() => expect(onRingTimeout).toHaveBeenCalledTimes(1));
    expect(calls.get(started.callId)).toBeUndefined();
    expect(await getCdrByCall(store.db, tenantId, started.callId)).toMatchObject({ disposition: 'no_answer', hangup_cause: 'NO_ANSWER', sip_status: 480, duration_seconds: 10 });
  });

  it('a callee at its given limit is busy (486) and a caller at its limit is refused (403); both leave a CDR', async () => {
    const calls = service({ maxCallsPerExtension: 1 });
    const first = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    expect(first.ok).toBe(true);
    const toBusyBob = await calls.startCall({ tenantId, direction: 'internal', caller: carol, callee: bob, limits: { callee: 1 } });
    expect(toBusyBob).toMatchObject({ ok: false, state: 'BUSY', sipStatus: 486 });
    expect(await getCdrByCall(store.db, tenantId, toBusyBob.callId)).toMatchObject({ disposition: 'busy', caller_number: '1003' });
    const fromBusyAlice = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: carol });
    expect(fromBusyAlice).toMatchObject({ ok: false, state: 'FAILED', sipStatus: 403 });
    // The refusals did not count against carol, nor change anyone's presence.
    expect(calls.activeCallCount('ext-c')).toBe(0);
    expect(events.filter(([t, p]) => t === 'extension.status' && (p as { extensionId: string }).extensionId === 'ext-c')).toEqual([]);
    expect(calls.liveCallCount).toBe(1);
  });

  it('leaves the callee limit to the router when none is given, and counts the extension that answered', async () => {
    const calls = service({ maxCallsPerExtension: 1 });
    const group = { number: '600', name: 'Sales', extensionId: null };
    expect((await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob })).ok).toBe(true);
    // bob is in a call, but without a callee limit the service does not refuse: the router decides busy.
    const second = await calls.startCall({ tenantId, direction: 'internal', caller: carol, callee: group });
    expect(second.ok).toBe(true);
    expect(calls.activeCallCount('ext-b')).toBe(1);
    expect((await calls.answer(second.callId, 'ext-b')).ok).toBe(true);
    expect(calls.activeCallCount('ext-b')).toBe(2);
    expect(calls.get(second.callId)?.answeredExtensionId).toBe('ext-b');
    await calls.apply(second.callId, { type: 'hangup' });
    expect(calls.activeCallCount('ext-b')).toBe(1);
    expect(await getCdrByCall(store.db, tenantId, second.callId)).toMatchObject({ callee_number: '600', callee_extension_id: null, answered_extension_id: 'ext-b', disposition: 'answered' });
  });

  it('recoverInterruptedCalls closes this instance’s calls a crash left open', async () => {
    await createCall(store.db, { tenantId, direction: 'internal', callerNumber: '1001', calleeNumber: '1002', instanceId: 'inst-1', startedAt: new Date(t0 - 60_000).toISOString(), id: 'old' });
    await createCall(store.db, { tenantId, direction: 'internal', callerNumber: '1001', calleeNumber: '1002', instanceId: 'inst-2', startedAt: new Date(t0 - 60_000).toISOString(), id: 'foreign' });
    expect(await service().recoverInterruptedCalls()).toBe(1);
    expect(await getCdrByCall(store.db, tenantId, 'old')).toMatchObject({ disposition: 'interrupted', duration_seconds: 60 });
    expect(await getCdrByCall(store.db, tenantId, 'foreign')).toBeUndefined();
  });

  it('a call’s own limits (the extensions’ max_concurrent_calls) override the service default', async () => {
    const calls = service({ maxCallsPerExtension: 5 });
    expect((await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob, limits: { callee: 1 } })).ok).toBe(true);
    expect(await calls.startCall({ tenantId, direction: 'internal', caller: carol, callee: bob, limits: { callee: 1 } })).toMatchObject({ ok: false, sipStatus: 486 });
    expect(await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: carol, limits: { caller: 1 } })).toMatchObject({ ok: false, sipStatus: 403 });
    expect((await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: carol, limits: { caller: 2 } })).ok).toBe(true);
  });

  it('hold, unhold and transfer are events of an answered call only; a transfer links the CDR to the new call', async () => {
    const calls = service();
    const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    if (!started.ok) throw new Error('refused');
    const id = started.callId;
    await calls.held(id, true, 'caller'); // still ringing: nothing to hold
    expect(eventTypes()).not.toContain('call.hold');
    await calls.answer(id);
    await calls.held(id, true, 'callee');
    await calls.held(id, false, 'api');
    expect(events.filter(([t]) => t === 'call.hold' || t === 'call.unhold')).toEqual([
      ['call.hold', expect.objectContaining({ callId: id, tenantId, by: 'callee' })],
      ['call.unhold', expect.objectContaining({ callId: id, by: 'api' })],
    ]);
    await calls.transferred(id, { kind: 'blind', transferor: bob, target: '1003', newCallId: 'new-call' });
    await calls.apply(id, { type: 'hangup' });
    expect(eventTypes().indexOf('call.transfer')).toBeLessThan(eventTypes().indexOf('call.ended'));
    expect(events.find(([t]) => t === 'call.transfer')?.[1]).toMatchObject({ callId: id, kind: 'blind', transferor: bob, target: '1003', newCallId: 'new-call' });
    expect(await getCdrByCall(store.db, tenantId, id)).toMatchObject({ disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', transferred_to_call_id: 'new-call' });
    // After the end nothing more is published.
    await calls.held(id, true, 'caller');
    expect(eventTypes().filter((t) => t === 'call.hold')).toHaveLength(1);
  });
});
