import { describe, expect, it } from 'vitest';
import { uuidv7Block } from '../../shared/ids.js';
import { inTransaction } from '../database.js';
import { appendOutboxEvents } from '../outbox/outbox.repository.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { insertFirstAttempts } from './delivery-cursor.repository.js';
import { requeueDelivery } from './delivery-queue.repository.js';
import { insertDeliveryRuns, runPlaceOf } from './delivery-run.repository.js';
import { getDelivery, listDeliveries, pruneDeliveryLog } from './webhook-delivery.repository.js';
import { createWebhook, deleteWebhook } from './webhook.repository.js';
import type { DeliveryRunItem } from './webhook.table.js';

const envelope = (i: number, tenantId: string) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'call.ringing', timestamp: new Date(0).toISOString(), tenant_id: tenantId, tenant_external_id: null, version: '1', data: { i },
});
const AT_MS = Date.parse('2026-11-01T10:00:00.000Z');

/**
 * An endpoint's log built in time order: run A (events 0–2, delivered at the first attempt), a
 * failed first attempt X (event 3), run B (events 4–5), a retry pending Y (event 6). Each write is
 * given its own created_at, as commits apart would.
 */
async function setUp() {
  const { store, tenantId } = await openTestStoreWithTenant();
  const db = store.db;
  const hook = await createWebhook(db, testSecretKey(), { tenantId, name: 'h', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
  const envs = Array.from({ length: 7 }, (_, i) => envelope(i, tenantId));
  const seqs = await inTransaction(db, (trx) => appendOutboxEvents(trx, envs as never));
  const item = (i: number): DeliveryRunItem => [envs[i]!.id, 'call.ringing', seqs[i]!, 200, 3, AT_MS + i, i === 0 ? 'ok' : null];
  const a = uuidv7Block(3);
  const b = uuidv7Block(2);
  const x = uuidv7Block(1)[0]!;
  const y = uuidv7Block(1)[0]!;
  const first = (id: string, i: number, retry: boolean) => ({
    id, webhookId: hook.id, ok: false, statusCode: 500, error: 'HTTP 500', excerpt: 'busy', durationMs: 2, at: new Date(AT_MS + i).toISOString(),
    nextAttemptAt: retry ? new Date(AT_MS + 60_000).toISOString() : null, first: { tenantId, eventId: envs[i]!.id, eventType: 'call.ringing', sequence: seqs[i]! },
  });
  const stamp = async (table: 'webhook_deliveries' | 'webhook_delivery_runs', id: string, minute: number) =>
    db.updateTable(table).set({ created_at: `2026-11-01T10:0${minute}:00.000Z` }).where('id', '=', id).execute();
  await insertDeliveryRuns(db, [{ id: a[0]!, webhookId: hook.id, tenantId, items: [item(0), item(1), item(2)] }]);
  await stamp('webhook_delivery_runs', a[0]!, 1);
  await insertFirstAttempts(db, [first(x, 3, false)]);
  await stamp('webhook_deliveries', x, 2);
  await insertDeliveryRuns(db, [{ id: b[0]!, webhookId: hook.id, tenantId, items: [item(4), item(5)] }]);
  await stamp('webhook_delivery_runs', b[0]!, 3);
  await insertFirstAttempts(db, [first(y, 6, true)]);
  await stamp('webhook_deliveries', y, 4);
  // Newest first: Y, then B's items from the last, X, then A's from the last.
  const order = [y, b[1], b[0], x, a[2], a[1], a[0]];
  return { store, db, tenantId, hook, envs, seqs, a, b, x, y, order };
}

describe('delivery log runs (first-attempt successes kept one row per page)', () => {
  it('lists rows and run items merged newest first; every page size walks the same order with nothing repeated or missed', async () => {
    const { store, db, tenantId, hook, envs, order, a } = await setUp();
    const all = await listDeliveries(db, tenantId, hook.id);
    expect(all.total).toBe(7);
    expect(all.items.map((d) => d.id)).toEqual(order);
    expect(all.items.map((d) => d.status)).toEqual(['pending', 'delivered', 'delivered', 'failed', 'delivered', 'delivered', 'delivered']);
    for (const limit of [1, 2, 3, 5]) {
      const walked: string[] = [];
      for (let offset = 0; offset < 7; offset += limit) walked.push(...(await listDeliveries(db, tenantId, hook.id, { limit, offset })).items.map((d) => d.id));
      expect(walked).toEqual(order);
    }
    // A run item reads like any delivery made at its first attempt.
    expect(all.items.at(-1)).toEqual({
      id: a[0], webhookId: hook.id, tenantId, eventId: envs[0]!.id, eventType: 'call.ringing', status: 'delivered', attempts: 1, roundAttempts: 1,
      lastStatusCode: 200, lastError: null, responseExcerpt: 'ok', lastDurationMs: 3, firstAttemptAt: new Date(AT_MS).toISOString(),
      lastAttemptAt: new Date(AT_MS).toISOString(), deliveredAt: new Date(AT_MS).toISOString(), nextAttemptAt: null, sequence: expect.any(Number),
      createdAt: '2026-11-01T10:01:00.000Z', updatedAt: '2026-11-01T10:01:00.000Z',
    });
    const delivered = await listDeliveries(db, tenantId, hook.id, { status: 'delivered', limit: 2, offset: 1 });
    expect(delivered).toEqual({ items: [expect.objectContaining({ id: order[2] }), expect.objectContaining({ id: order[4] })], total: 5 });
    expect((await listDeliveries(db, tenantId, hook.id, { status: 'failed' })).items.map((d) => d.id)).toEqual([order[3]]);
    expect((await listDeliveries(db, tenantId, hook.id, { status: 'pending' })).total).toBe(1);
    // Another tenant sees none of them.
    const other = await createTenant(db, { name: 'Other', sipDomain: 'other.test' });
    expect((await listDeliveries(db, other.id, hook.id)).total).toBe(0);
    await expect(getDelivery(db, other.id, hook.id, order[1]!)).rejects.toMatchObject({ code: 'WEBHOOK_DELIVERY_NOT_FOUND' });
    store.close();
  });

  it('finds a run item by its delivery id; an index past the run, or another endpoint, is not found', async () => {
    const { store, db, tenantId, hook, envs, a, b } = await setUp();
    expect(runPlaceOf(b[1]!)).toEqual({ runId: b[0], index: 1 });
    expect(await getDelivery(db, tenantId, hook.id, b[1]!)).toMatchObject({ id: b[1], eventId: envs[5]!.id, status: 'delivered', attempts: 1 });
    await expect(getDelivery(db, tenantId, hook.id, `${a[0]!.slice(0, -4)}0007`)).rejects.toMatchObject({ code: 'WEBHOOK_DELIVERY_NOT_FOUND' });
    const other = await createWebhook(db, testSecretKey(), { tenantId, name: 'o', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
    await expect(getDelivery(db, tenantId, other.id, b[1]!)).rejects.toMatchObject({ code: 'WEBHOOK_DELIVERY_NOT_FOUND' });
    store.close();
  });

  it('a redelivered run item moves to a pending row of its own, in the same place of the log; the last one takes its run with it', async () => {
    const { store, db, tenantId, hook, envs, order, b } = await setUp();
    const queued = await inTransaction(db, (trx) => requeueDelivery(trx, tenantId, hook.id, b[0]!, '2026-11-01T11:00:00.000Z'));
    expect(queued).toMatchObject({ id: b[0], eventId: envs[4]!.id, status: 'pending', attempts: 1, roundAttempts: 0, nextAttemptAt: '2026-11-01T11:00:00.000Z' });
    let log = await listDeliveries(db, tenantId, hook.id);
    expect(log.total).toBe(7);
    expect(log.items.map((d) => d.id)).toEqual(order);
    expect(log.items.find((d) => d.id === b[0])?.status).toBe('pending');
    await inTransaction(db, (trx) => requeueDelivery(trx, tenantId, hook.id, b[1]!, '2026-11-01T11:00:00.000Z'));
    expect(await db.selectFrom('webhook_delivery_runs').select('id').where('id', '=', b[0]!).execute()).toEqual([]);
    log = await listDeliveries(db, tenantId, hook.id);
    expect(log.total).toBe(7);
    expect(new Set(log.items.map((d) => d.id)).size).toBe(7);
    // Twice is the row's own requeue, not a second copy.
    await inTransaction(db, (trx) => requeueDelivery(trx, tenantId, hook.id, b[1]!, '2026-11-01T12:00:00.000Z'));
    expect((await listDeliveries(db, tenantId, hook.id)).total).toBe(7);
    store.close();
  });

  it('retention deletes old runs and counts their deliveries; deleting the endpoint takes its runs', async () => {
    const { store, db, tenantId, hook } = await setUp();
    // Before 10:03: run A (3) and failed X (1); run B (10:03) and pending Y stay.
    expect(await pruneDeliveryLog(db, { before: '2026-11-01T10:03:00.000Z' })).toBe(4);
    expect((await listDeliveries(db, tenantId, hook.id)).total).toBe(3);
    await deleteWebhook(db, tenantId, hook.id);
    expect(await db.selectFrom('webhook_delivery_runs').select('id').execute()).toEqual([]);
    store.close();
  });

  it('a run of an endpoint deleted meanwhile is left out, and the rest of the batch is written', async () => {
    const { store, db, tenantId, hook } = await setUp();
    const gone = await createWebhook(db, testSecretKey(), { tenantId, name: 'gone', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
    await deleteWebhook(db, tenantId, gone.id);
    const [kept, lost] = [uuidv7Block(1)[0]!, uuidv7Block(1)[0]!];
    const item: DeliveryRunItem = ['e', 'call.ringing', 1, 204, 1, AT_MS, null];
    await insertDeliveryRuns(db, [{ id: kept, webhookId: hook.id, tenantId, items: [item] }, { id: lost, webhookId: gone.id, tenantId, items: [item] }]);
    expect((await db.selectFrom('webhook_delivery_runs').select('id').where('id', 'in', [kept, lost]).execute()).map((r) => r.id)).toEqual([kept]);
    store.close();
  });
});

describe('uuidv7Block', () => {
  it('numbers a block in its last four hex digits: distinct, in order, each naming the block and its place', () => {
    const ids = uuidv7Block(300);
    expect(new Set(ids).size).toBe(300);
    expect([...ids].sort()).toEqual(ids);
    for (const [i, id] of ids.entries()) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(runPlaceOf(id)).toEqual({ runId: ids[0], index: i });
    }
    expect(() => uuidv7Block(0x10001)).toThrow(RangeError);
    // A v4 id (a test event's delivery) names no run.
    expect(runPlaceOf('0b0e7b8e-3b1f-4c7e-9a7e-0123456789ab')).toBeUndefined();
  });
});
