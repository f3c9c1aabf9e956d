import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant } from '../test-helpers.js';
import { closeInterruptedCalls, createCall, findCall, finishCall, updateCallState, type NewCall } from './call.repository.js';
import { getCdrByCall } from './cdr.repository.js';

let store: Store;
let tenantId: string;

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

const newCall = (over: Partial<NewCall> = {}): NewCall => ({
  tenantId,
  direction: 'internal',
  callerNumber: '1001',
  callerName: 'Alice',
  calleeNumber: '1002',
  calleeName: 'Bob',
  callerExtensionId: 'ext-a',
  calleeExtensionId: 'ext-b',
  siteId: 'site-1',
  sipCallId: 'abc@host',
  instanceId: 'inst-1',
  startedAt: '2026-11-21T10:00:00.000Z',
  ...over,
});

describe('calls', () => {
  it('creates a call in INITIATED and walks it to ANSWERED', async () => {
    const call = await createCall(store.db, newCall({ id: 'call-1' }));
    expect(call).toMatchObject({ id: 'call-1', state: 'INITIATED', ended_at: null, instance_id: 'inst-1' });
    await updateCallState(store.db, 'call-1', { state: 'RINGING' });
    await updateCallState(store.db, 'call-1', { state: 'ANSWERED', answeredAt: '2026-11-21T10:00:05.000Z' });
    expect(await findCall(store.db, tenantId, 'call-1')).toMatchObject({ state: 'ANSWERED', answered_at: '2026-11-21T10:00:05.000Z' });
  });

  it('finishes an answered call: final state and CDR with duration and billable seconds', async () => {
    const call = await createCall(store.db, newCall());
    await updateCallState(store.db, call.id, { state: 'ANSWERED', answeredAt: '2026-11-21T10:00:05.000Z' });
    const cdr = await finishCall(store.db, call.id, { state: 'COMPLETED', endedAt: '2026-11-21T10:01:05.400Z', hangupCause: 'NORMAL_CLEARING', sipStatus: 200 });
    expect(cdr).toMatchObject({
      call_id: call.id,
      tenant_id: tenantId,
      direction: 'internal',
      caller_number: '1001',
      caller_name: 'Alice',
      callee_number: '1002',
      callee_name: 'Bob',
      caller_extension_id: 'ext-a',
      callee_extension_id: 'ext-b',
      site_id: 'site-1',
      duration_seconds: 65,
      billable_seconds: 60,
      disposition: 'answered',
      hangup_cause: 'NORMAL_CLEARING',
      sip_status: 200,
    });
    expect(await findCall(store.db, tenantId, call.id)).toMatchObject({ state: 'COMPLETED', ended_at: '2026-11-21T10:01:05.400Z', hangup_cause: 'NORMAL_CLEARING' });
    expect(await getCdrByCall(store.db, tenantId, call.id)).toEqual(cdr);
  });

  it.each([
    ['BUSY', 486, 'busy'],
    ['NO_ANSWER', 480, 'no_answer'],
    ['CANCELLED', 487, 'cancelled'],
    ['FAILED', 404, 'failed'],
  ] as const)('an unanswered call ending %s gets disposition %s and no billable time', async (state, sipStatus, disposition) => {
    const call = await createCall(store.db, newCall());
    const cdr = await finishCall(store.db, call.id, { state, endedAt: '2026-11-21T10:00:20.000Z', hangupCause: 'X', sipStatus });
    expect(cdr).toMatchObject({ disposition, billable_seconds: 0, duration_seconds: 20, sip_status: sipStatus, answered_at: null });
  });

  it('a call ends once: a second finish and a late state update are CALL_NOT_FOUND, and no second CDR appears', async () => {
    const call = await createCall(store.db, newCall());
    await finishCall(store.db, call.id, { state: 'CANCELLED', endedAt: '2026-11-21T10:00:01.000Z', hangupCause: 'ORIGINATOR_CANCEL' });
    await expect(finishCall(store.db, call.id, { state: 'FAILED', endedAt: '2026-11-21T10:00:02.000Z', hangupCause: 'X' })).rejects.toMatchObject({ code: 'CALL_NOT_FOUND' });
    await expect(updateCallState(store.db, call.id, { state: 'RINGING' })).rejects.toMatchObject({ code: 'CALL_NOT_FOUND' });
    const count = await store.db.selectFrom('cdrs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('the CDR and the final state commit together: a failing CDR insert leaves the call open', async () => {
    const call = await createCall(store.db, newCall());
    // A CDR row for this call already there makes the unique call_id insert fail inside the transaction.
    await store.db.insertInto('cdrs').values({
      id: 'squatter', tenant_id: tenantId, call_id: call.id, direction: 'internal', caller_number: '1', caller_name: null, callee_number: '2',
      callee_name: null, caller_extension_id: null, callee_extension_id: null, site_id: null, sip_call_id: null, started_at: call.started_at,
      answered_at: null, ended_at: call.started_at, duration_seconds: 0, billable_seconds: 0, hangup_cause: 'X', sip_status: null,
      disposition: 'failed', created_at: call.started_at,
    }).execute();
    await expect(finishCall(store.db, call.id, { state: 'BUSY', endedAt: '2026-11-21T10:00:03.000Z', hangupCause: 'USER_BUSY' })).rejects.toThrow();
    expect(await findCall(store.db, tenantId, call.id)).toMatchObject({ state: 'INITIATED', ended_at: null });
  });

  it('closeInterruptedCalls closes only the given instance’s open calls, with disposition interrupted', async () => {
    const mine = await createCall(store.db, newCall({ instanceId: 'inst-1' }));
    await updateCallState(store.db, mine.id, { state: 'ANSWERED', answeredAt: '2026-11-21T10:00:10.000Z' });
    const other = await createCall(store.db, newCall({ instanceId: 'inst-2' }));
    const ended = await createCall(store.db, newCall({ instanceId: 'inst-1' }));
    await finishCall(store.db, ended.id, { state: 'COMPLETED', endedAt: '2026-11-21T10:00:30.000Z', hangupCause: 'NORMAL_CLEARING' });

    expect(await closeInterruptedCalls(store.db, { instanceId: 'inst-1', now: '2026-11-21T10:02:00.000Z' })).toBe(1);
    expect(await getCdrByCall(store.db, tenantId, mine.id)).toMatchObject({ disposition: 'interrupted', hangup_cause: 'SYSTEM_SHUTDOWN', billable_seconds: 110, duration_seconds: 120 });
    expect(await findCall(store.db, tenantId, mine.id)).toMatchObject({ state: 'FAILED', ended_at: '2026-11-21T10:02:00.000Z' });
    expect(await findCall(store.db, tenantId, other.id)).toMatchObject({ ended_at: null });
    expect(await getCdrByCall(store.db, tenantId, ended.id)).toMatchObject({ disposition: 'answered' });

    expect(await closeInterruptedCalls(store.db, { now: '2026-11-21T10:03:00.000Z' })).toBe(1);
    expect(await getCdrByCall(store.db, tenantId, other.id)).toMatchObject({ disposition: 'interrupted' });
    expect(await closeInterruptedCalls(store.db, { now: '2026-11-21T10:04:00.000Z' })).toBe(0);
  });
});
