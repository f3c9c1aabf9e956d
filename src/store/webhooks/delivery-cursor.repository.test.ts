import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { inTransaction, openDatabase } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { migrations } from '../migrations/index.js';
import { appendOutboxEvents } from '../outbox/outbox.repository.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { advanceWebhookCursors, getWebhookCursor, insertFirstAttempts, listDispatchHeads, type FirstAttemptRow } from './delivery-cursor.repository.js';
import { enqueueDeliveries } from './delivery-queue.repository.js';
import { getDelivery, listDeliveries } from './webhook-delivery.repository.js';
import { createWebhook, deleteWebhook, updateWebhook } from './webhook.repository.js';

const envelope = (i: number, tenantId: string) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'call.ringing', timestamp: new Date(0).toISOString(), tenant_id: tenantId, tenant_external_id: null, version: '1', data: { i },
});
const at = '2026-01-01T00:00:00.000Z';

async function setUp() {
  const { store, tenantId } = await openTestStoreWithTenant();
  const key = testSecretKey();
  const hook = await createWebhook(store.db, key, { tenantId, name: 'h', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
  const append = (from: number, n: number, tenant = tenantId) => inTransaction(store.db, (trx) => appendOutboxEvents(trx, Array.from({ length: n }, (_, i) => envelope(from + i, tenant)) as never));
  return { store, db: store.db, tenantId, key, hook, append };
}

describe('webhook cursors (events owed without a queue row)', () => {
  it('a new endpoint starts at the newest event; an endpoint enabled again skips what happened while it was disabled', async () => {
    const { store, db, tenantId, key, hook, append } = await setUp();
    const [first] = await append(0, 1);
    const later = await createWebhook(db, key, { tenantId, name: 'later', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
    expect(await getWebhookCursor(db, later.id)).toBe(first);
    expect(await getWebhookCursor(db, hook.id)).toBe(0);

    await updateWebhook(db, key, tenantId, later.id, { enabled: false });
    const seqs = await append(1, 3);
    // Enabling an enabled endpoint moves nothing; enabling a disabled one starts it at the newest event.
    await updateWebhook(db, key, tenantId, hook.id, { enabled: true });
    expect(await getWebhookCursor(db, hook.id)).toBe(0);
    await updateWebhook(db, key, tenantId, later.id, { enabled: true });
    expect(await getWebhookCursor(db, later.id)).toBe(seqs.at(-1));
    await store.close();
  });

  it('the scan lists endpoints with events of their tenant past the cursor, or a pending head; not a disabled one without a backlog', async () => {
    const { store, db, tenantId, key, hook, append } = await setUp();
    expect(await listDispatchHeads(db)).toEqual([]);
    const other = (await createTenant(db, { name: 'Other', sipDomain: 'other.test' })).id;
    await append(0, 2, other);
    expect(await listDispatchHeads(db)).toEqual([]); // another tenant's events are not this endpoint's
    const seqs = await append(10, 2);
    expect(await listDispatchHeads(db)).toEqual([expect.objectContaining({ webhookId: hook.id, enabled: true, newestSequence: seqs[1], headDue: undefined })]);
    await advanceWebhookCursors(db, new Map([[hook.id, seqs[1]!]]));
    expect(await listDispatchHeads(db)).toEqual([]);

    await enqueueDeliveries(db, [{ webhookId: hook.id, tenantId, eventId: envelope(10, tenantId).id, eventType: 'call.ringing', sequence: seqs[0]!, nextAttemptAt: at }]);
    await updateWebhook(db, key, tenantId, hook.id, { enabled: false });
    // Listed (its backlog waits), the dispatcher skips it while disabled.
    expect(await listDispatchHeads(db)).toEqual([expect.objectContaining({ webhookId: hook.id, enabled: false, newestSequence: 0, headDue: at })]);
    await store.close();
  });

  it('writes first attempts as rows (delivered, failed, pending for the retry), over one statement\'s bound, and never moves a cursor back', async () => {
    const { store, db, tenantId, hook, append } = await setUp();
    const n = 1100; // × 17 values > one 1,024-row chunk
    const seqs = await append(0, n);
    const rows: FirstAttemptRow[] = seqs.map((sequence, i) => ({
      id: `0190f000-0000-7000-8000-${String(i).padStart(12, '0')}`, webhookId: hook.id, first: { tenantId, eventId: envelope(i, tenantId).id, eventType: 'call.ringing', sequence },
      ok: i !== 1 && i !== 2, statusCode: i === 1 ? 500 : i === 2 ? null : 200, error: i === 1 ? 'HTTP 500' : i === 2 ? 'ECONNREFUSED' : null,
      excerpt: i === 1 ? 'x'.repeat(5000) : null, durationMs: 3.4, at, nextAttemptAt: i === 1 ? '2026-01-01T00:00:02.000Z' : null,
    }));
    await inTransaction(db, async (trx) => {
      await insertFirstAttempts(trx, rows);
      await advanceWebhookCursors(trx, new Map([[hook.id, seqs.at(-1)!]]));
    });
    expect(await getDelivery(db, tenantId, hook.id, rows[0]!.id)).toMatchObject({ status: 'delivered', attempts: 1, roundAttempts: 1, lastStatusCode: 200, deliveredAt: at, firstAttemptAt: at, sequence: seqs[0], lastDurationMs: 3 });
    expect(await getDelivery(db, tenantId, hook.id, rows[1]!.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500', nextAttemptAt: '2026-01-01T00:00:02.000Z', deliveredAt: null });
    expect((await getDelivery(db, tenantId, hook.id, rows[1]!.id)).responseExcerpt).toHaveLength(1024);
    expect(await getDelivery(db, tenantId, hook.id, rows[2]!.id)).toMatchObject({ status: 'failed', lastError: 'ECONNREFUSED', nextAttemptAt: null });
    expect((await listDeliveries(db, tenantId, hook.id)).total).toBe(n);

    await advanceWebhookCursors(db, new Map([[hook.id, seqs[0]!]]));
    expect(await getWebhookCursor(db, hook.id)).toBe(seqs.at(-1));
    await store.close();
  });

  it('0012 starts each endpoint where fan-out stood: before the first event not fanned out yet, else at the newest', async () => {
    const old = openDatabase(':memory:');
    await migrateToLatest(old.db, Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0012')));
    const t = await createTenant(old.db, { name: 'Old', sipDomain: 'old.test' });
    await sql`insert into webhooks (id, tenant_id, name, url, events, secret_enc, created_at, updated_at) values ('w-old', ${t.id}, 'old', 'https://x.example.com/', '["*"]', 'v1:x', '2026-01-01', '2026-01-01')`.execute(old.db);
    const row = (i: number, dispatched: string | null) => sql`insert into outbox_events (event_id, tenant_id, type, occurred_at, envelope, dispatched_at, created_at)
      values (${`e${i}`}, ${t.id}, 'call.ringing', '2026-01-01', '{}', ${dispatched}, '2026-01-01')`.execute(old.db);
    for (const i of [1, 2]) await row(i, '2026-01-01');
    for (const i of [3, 4]) await row(i, null);
    await migrateToLatest(old.db);
    expect(await getWebhookCursor(old.db, 'w-old')).toBe(2);
    expect(await listDispatchHeads(old.db)).toEqual([expect.objectContaining({ webhookId: 'w-old', newestSequence: 4 })]);
    await old.close();
  });

  it('leaves out the rows and cursor of an endpoint deleted while its outcomes waited for their commit, keeping the others', async () => {
    const { store, db, tenantId, key, hook, append } = await setUp();
    const gone = await createWebhook(db, key, { tenantId, name: 'gone', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
    const [seq] = await append(0, 1);
    await deleteWebhook(db, tenantId, gone.id);
    const row = (webhookId: string, id: string): FirstAttemptRow => ({
      id, webhookId, first: { tenantId, eventId: envelope(0, tenantId).id, eventType: 'call.ringing', sequence: seq! }, ok: true, statusCode: 200, error: null, excerpt: null, durationMs: 1, at, nextAttemptAt: null,
    });
    await inTransaction(db, async (trx) => {
      await insertFirstAttempts(trx, [row(gone.id, 'd-gone'), row(hook.id, 'd-kept')]);
      await advanceWebhookCursors(trx, new Map([[gone.id, seq!], [hook.id, seq!]]));
    });
    expect((await listDeliveries(db, tenantId, hook.id)).items.map((d) => d.id)).toEqual(['d-kept']);
    expect(await getWebhookCursor(db, hook.id)).toBe(seq);
    expect(await getWebhookCursor(db, gone.id)).toBe(0);
    await store.close();
  });
});
