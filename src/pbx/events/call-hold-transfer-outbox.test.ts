import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { parseEvent } from '../../events/envelope.js';
import { EventBus } from '../../events/event-bus.js';
import type { PbxEvents } from '../../events/pbx-events.js';
import { createTenant, finishCall, listOutboxEvents, type Store } from '../../store/index.js';
import { openTestStore } from '../../store/test-helpers.js';
import { CallService } from '../calls/call-service.js';
import { CallOutbox } from './call-outbox.js';

const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const log = pino({ level: 'silent' });
const alice = { number: '1001', name: 'Alice', extensionId: 'ext-a' };
const bob = { number: '1002', name: null, extensionId: 'ext-b' };
let store: Store;
let tenantId: string;
let woken: number;

beforeEach(async () => {
  store = await openTestStore();
  tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test', tenantExternalId: 'acme-42' })).id;
  woken = 0;
});
afterEach(() => store.close());

async function answeredCall(): Promise<{ calls: CallService; callId: string }> {
  const clock = new FakeClock(t0);
  const calls = new CallService({
    db: store.db, bus: new EventBus<PbxEvents>(), clock, instanceId: 'inst-1', log, ringTimeoutMs: 30_000, maxCallsPerExtension: 4,
    outbox: new CallOutbox({ db: store.db, clock, log, onCommitted: () => woken++ }),
  });
  const started = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
  await calls.answer(started.callId, 'ext-b');
  return { calls, callId: started.callId };
}
const outboxEvents = async () => (await listOutboxEvents(store.db)).map((e) => parseEvent(JSON.parse(e.body)));
const typesAfterAnswer = async () => (await outboxEvents()).filter((e) => ['call.hold', 'call.unhold', 'call.transfer'].includes(e.type));

describe('call.hold / call.unhold / call.transfer in the outbox', () => {
  it('hold and unhold are written (each its own transaction) with who did it, and wake the dispatcher', async () => {
    const { calls, callId } = await answeredCall();
    woken = 0;
    await calls.held(callId, true, 'api');
    await calls.held(callId, false, 'callee');
    const events = await typesAfterAnswer();
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['call.hold', { call_id: callId, by: 'api' }],
      ['call.unhold', { call_id: callId, by: 'callee' }],
    ]);
    expect(events[0]).toMatchObject({ tenant_id: tenantId, tenant_external_id: 'acme-42', timestamp: '2026-11-21T10:00:00.000Z' });
    expect(woken).toBe(2);
  });

  it('call.transfer commits with the transfer link, and the CDR then links the new call', async () => {
    const { calls, callId } = await answeredCall();
    await calls.transferred(callId, { kind: 'blind', transferor: bob, target: '1003', newCallId: 'call-new' });
    const [transfer] = await typesAfterAnswer();
    expect(transfer).toMatchObject({
      type: 'call.transfer',
      data: { call_id: callId, kind: 'blind', target: '1003', new_call_id: 'call-new', transferor: { number: '1002', name: null, extension_id: 'ext-b' } },
    });
    const row = await store.db.selectFrom('calls').select('transferred_to_call_id').where('id', '=', callId).executeTakeFirstOrThrow();
    expect(row.transferred_to_call_id).toBe('call-new');
  });

  it('an API transfer (no transferor) without a new call id is written alone', async () => {
    const { calls, callId } = await answeredCall();
    await calls.transferred(callId, { kind: 'attended', transferor: null, target: '1004' });
    const [transfer] = await typesAfterAnswer();
    expect(transfer?.data).toEqual({ call_id: callId, kind: 'attended', target: '1004', new_call_id: null, transferor: null });
  });

  it('a transfer whose link cannot be stored writes no call.transfer either', async () => {
    const { calls, callId } = await answeredCall();
    // The row ended behind the service's back: the link's UPDATE finds no open call and the transaction rolls back.
    await finishCall(store.db, callId, { state: 'COMPLETED', endedAt: '2026-11-21T10:00:01.000Z', hangupCause: 'NORMAL_CLEARING' });
    await calls.transferred(callId, { kind: 'blind', transferor: bob, target: '1003', newCallId: 'call-new' });
    expect((await outboxEvents()).map((e) => e.type)).not.toContain('call.transfer');
  });
});
