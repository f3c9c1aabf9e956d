import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEvent } from '../../events/envelope.js';
import { createCall, findCall, finishCall, updateCallState, type NewCall } from '../calls/call.repository.js';
import { getCdrByCall } from '../calls/cdr.repository.js';
import { inTransaction, type Store } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { enqueueDeliveries, listQueuePage } from '../webhooks/delivery-queue.repository.js';
import { advanceWebhookCursors } from '../webhooks/delivery-cursor.repository.js';
import { createWebhook, updateWebhook } from '../webhooks/webhook.repository.js';
import { appendOutboxEvents, findOutboxEvent, listOutboxEvents, pruneOutbox } from './outbox.repository.js';

let store: Store;
let tenantId: string;

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

const newCall = (id: string): NewCall => ({
  id, tenantId, direction: 'internal', callerNumber: '1001', calleeNumber: '1002', instanceId: 'inst-1', startedAt: '2026-11-21T10:00:00.000Z',
});
const ringing = (callId: string) => makeEvent('call.ringing', { tenantId, tenantExternalId: null, data: { call_id: callId, extension_id: null } });
const endedOf = (cdr: { call_id: string; id: string }) => [
  makeEvent('call.ended', {
    tenantId, tenantExternalId: 'acme-1',
    data: {
      call_id: cdr.call_id, cdr_id: cdr.id, direction: 'internal', caller_number: '1001', caller_name: null, caller_extension_id: null,
      callee_number: '1002', callee_name: null, callee_extension_id: null, answered_extension_id: null, site_id: null, sip_call_id: null,
      started_at: '2026-11-21T10:00:00.000Z', answered_at: null, ended_at: '2026-11-21T10:00:03.000Z', duration_seconds: 3, billable_seconds: 0,
      hangup_cause: 'USER_BUSY', sip_status: 486, disposition: 'busy',
    },
  }),
];

describe('outbox', () => {
  it('writes call events with their change, in order, with the exact JSON of the envelope', async () => {
    const start = makeEvent('call.ringing', { tenantId, tenantExternalId: null, data: { call_id: 'c1', extension_id: null } });
    await createCall(store.db, newCall('c1'), [start]);
    await updateCallState(store.db, 'c1', { state: 'RINGING' }, [ringing('c1')]);
    const cdr = await finishCall(store.db, 'c1', { state: 'BUSY', endedAt: '2026-11-21T10:00:03.000Z', hangupCause: 'USER_BUSY', sipStatus: 486 }, endedOf);
    const rows = await listOutboxEvents(store.db);
    expect(rows.map((r) => r.type)).toEqual(['call.ringing', 'call.ringing', 'call.ended']);
    expect(rows.map((r) => r.sequence)).toEqual([...rows.map((r) => r.sequence)].sort((a, b) => a - b));
    expect(rows[0]!.body).toBe(JSON.stringify(start));
    expect(JSON.parse(rows[2]!.body)).toMatchObject({ tenant_external_id: 'acme-1', data: { cdr_id: cdr.id, disposition: 'busy' } });
  });

  it('a failing transaction writes neither the end of the call nor its event', async () => {
    await createCall(store.db, newCall('c2'));
    // The event is written (its id is now taken), then the end fails on it: all of it rolls back.
    const events = endedOf({ call_id: 'c2', id: 'x' });
    await inTransaction(store.db, (trx) => appendOutboxEvents(trx, events));
    await expect(finishCall(store.db, 'c2', { state: 'BUSY', endedAt: '2026-11-21T10:00:03.000Z', hangupCause: 'USER_BUSY' }, () => events)).rejects.toThrow();
    expect(await findCall(store.db, tenantId, 'c2')).toMatchObject({ ended_at: null });
    expect(await getCdrByCall(store.db, tenantId, 'c2')).toBeUndefined();
    expect((await listOutboxEvents(store.db)).length).toBe(1);

    // And a builder that throws leaves the call open and the outbox untouched.
    await expect(finishCall(store.db, 'c2', { state: 'BUSY', endedAt: '2026-11-21T10:00:03.000Z', hangupCause: 'USER_BUSY' }, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await findCall(store.db, tenantId, 'c2')).toMatchObject({ ended_at: null });
    expect((await listOutboxEvents(store.db)).length).toBe(1);
  });

  it('retention removes an old event only once no enabled endpoint of its tenant is owed it: its cursor is past it and no pending delivery sends it', async () => {
    const hook = await createWebhook(store.db, testSecretKey(), { tenantId, name: 'h', url: 'https://h.example.com', events: ['*'], secret: 's' });
    const [old] = [ringing('c3')];
    const [seq] = await inTransaction(store.db, (trx) => appendOutboxEvents(trx, [old!], '2026-11-20T00:00:00.000Z'));
    const before = '2026-11-21T00:00:00.000Z';
    expect(await pruneOutbox(store.db, { before })).toBe(0); // past the endpoint's cursor: owed
    // Its first attempt failed: a pending row (the retry), and the cursor past it.
    await enqueueDeliveries(store.db, [{ webhookId: hook.id, tenantId, eventId: old!.id, eventType: old!.type, sequence: seq!, nextAttemptAt: '2026-11-20T00:00:00.000Z' }]);
    await advanceWebhookCursors(store.db, new Map([[hook.id, seq!]]));
    expect(await pruneOutbox(store.db, { before })).toBe(0); // still pending for the endpoint
    const [head] = await listQueuePage(store.db, hook.id, 1);
    await store.db.updateTable('webhook_deliveries').set({ status: 'delivered' }).where('id', '=', head!.id).execute();
    expect(await pruneOutbox(store.db, { before })).toBe(1);
    expect(await findOutboxEvent(store.db, old!.id)).toBeUndefined();
  });

  it('a disabled endpoint holds no event in the outbox (its backlog is kept as pending deliveries)', async () => {
    const hook = await createWebhook(store.db, testSecretKey(), { tenantId, name: 'h', url: 'https://h.example.com', events: ['*'], secret: 's' });
    await inTransaction(store.db, (trx) => appendOutboxEvents(trx, [ringing('c4')], '2026-11-20T00:00:00.000Z'));
    const before = '2026-11-21T00:00:00.000Z';
    expect(await pruneOutbox(store.db, { before })).toBe(0);
    await updateWebhook(store.db, testSecretKey(), tenantId, hook.id, { enabled: false });
    expect(await pruneOutbox(store.db, { before })).toBe(1);
  });
});
