import { describe, expect, it } from 'vitest';
import { inTransaction } from '../database.js';
import { appendOutboxEvents } from '../outbox/outbox.repository.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { enqueueDeliveries, listQueuePage, recordDeliveryOutcomes } from './delivery-queue.repository.js';
import { listDeliveries, pruneDeliveryLog } from './webhook-delivery.repository.js';
import { createWebhook } from './webhook.repository.js';

const envelope = (i: number, tenantId: string) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'call.ringing', timestamp: new Date(0).toISOString(), tenant_id: tenantId, tenant_external_id: null, version: '1', data: { i },
});

describe('delivery log retention', () => {
  it('deletes ended deliveries older than the window, endpoint by endpoint; keeps newer ones and every pending one', async () => {
    const { store, tenantId } = await openTestStoreWithTenant();
    const db = store.db;
    const hooks = [
      await createWebhook(db, testSecretKey(), { tenantId, name: 'a', url: 'https://a.example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' }),
      await createWebhook(db, testSecretKey(), { tenantId, name: 'b', url: 'https://b.example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' }),
    ];
    const envs = Array.from({ length: 4 }, (_, i) => envelope(i, tenantId));
    const seqs = await inTransaction(db, (trx) => appendOutboxEvents(trx, envs as never));
    for (const h of hooks) {
      await enqueueDeliveries(db, envs.map((e, i) => ({ webhookId: h.id, tenantId, eventId: e.id, eventType: e.type, sequence: seqs[i]!, nextAttemptAt: new Date(0).toISOString() })));
      const page = await listQueuePage(db, h.id, 10);
      // Events 0 and 1 delivered, 2 failed for good, 3 still pending (a retry is due).
      await recordDeliveryOutcomes(db, page.slice(0, 3).map((d, i) => ({ id: d.id, ok: i < 2, statusCode: i < 2 ? 200 : 500, error: i < 2 ? null : 'HTTP 500', excerpt: null, durationMs: 1, at: '2026-11-01T00:00:00.000Z', nextAttemptAt: null })));
    }
    // Everything was created ten days ago, except event 1's deliveries (today).
    await db.updateTable('webhook_deliveries').set({ created_at: '2026-11-11T00:00:00.000Z' }).execute();
    await db.updateTable('webhook_deliveries').set({ created_at: '2026-11-21T00:00:00.000Z' }).where('event_id', '=', envs[1]!.id).execute();

    expect(await pruneDeliveryLog(db, { before: '2026-11-14T00:00:00.000Z' })).toBe(4); // events 0 and 2, at each endpoint
    for (const h of hooks) {
      const left = (await listDeliveries(db, tenantId, h.id)).items;
      expect(left.map((d) => [d.eventId, d.status]).sort()).toEqual([[envs[1]!.id, 'delivered'], [envs[3]!.id, 'pending']].sort());
    }
    // Bounded per call: one row per endpoint at a time.
    await db.updateTable('webhook_deliveries').set({ created_at: '2026-11-11T00:00:00.000Z' }).execute();
    expect(await pruneDeliveryLog(db, { before: '2026-11-14T00:00:00.000Z', limit: 1 })).toBe(2);
    expect(await pruneDeliveryLog(db, { before: '2026-11-14T00:00:00.000Z' })).toBe(0); // only pending ones left
    store.close();
  });
});
