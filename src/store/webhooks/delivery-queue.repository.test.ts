import { describe, expect, it } from 'vitest';
import { appendOutboxEvents } from '../outbox/outbox.repository.js';
import { inTransaction } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { listDispatchHeads } from './delivery-cursor.repository.js';
import { chunkSizes } from '../statement-sizes.js';
import { enqueueDeliveries, listQueuePage, recordDeliveryOutcomes } from './delivery-queue.repository.js';
import { getDelivery, listDeliveries } from './webhook-delivery.repository.js';
import { createWebhook } from './webhook.repository.js';

const envelope = (i: number, tenantId: string) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'call.ringing', timestamp: new Date(0).toISOString(), tenant_id: tenantId, tenant_external_id: null, version: '1', data: { i },
});

describe('delivery queue (batched dispatch)', () => {
  it('splits multi-row statements into a few power-of-two sizes, so their prepared statements stay cached', () => {
    expect(chunkSizes(1800, 1024)).toEqual([1024, 512, 256, 8]);
    expect(chunkSizes(3, 512)).toEqual([2, 1]);
    expect(chunkSizes(0, 512)).toEqual([]);
  });

  it('enqueues more rows than one statement may bind, pages them in sequence order with their bodies, and records outcomes in one statement', async () => {
    const { store, tenantId } = await openTestStoreWithTenant();
    const db = store.db;
    const hook = await createWebhook(db, testSecretKey(), { tenantId, name: 'h', url: 'https://example.com/', events: ['*'], secret: 'a-secret-of-sixteen+' });
    const n = 1800; // × 19 columns > 32,766 variables
    const envs = Array.from({ length: n }, (_, i) => envelope(i, tenantId));
    const seqs = await inTransaction(db, (trx) => appendOutboxEvents(trx, envs as never));
    const at = new Date(0).toISOString();
    const items = envs.map((e, i) => ({ webhookId: hook.id, tenantId, eventId: e.id, eventType: e.type, sequence: seqs[i]!, nextAttemptAt: at }));
    expect(await enqueueDeliveries(db, items)).toBe(n);

    const page = await listQueuePage(db, hook.id, 3);
    expect(page.map((d) => d.sequence)).toEqual(seqs.slice(0, 3));
    expect(JSON.parse(page[0]!.body!).data).toEqual({ i: 0 });
    expect(await listDispatchHeads(db)).toEqual([expect.objectContaining({ webhookId: hook.id, enabled: true, headDue: at })]);

    // The same delivery twice in one call is applied in order (a failure, then its retry's success).
    const [a, b] = page;
    await recordDeliveryOutcomes(db, [
      { id: a!.id, ok: false, statusCode: 500, error: 'HTTP 500', excerpt: 'down', durationMs: 3, at: '2026-01-01T00:00:00.000Z', nextAttemptAt: '2026-01-01T00:00:02.000Z' },
      { id: b!.id, ok: false, statusCode: null, error: 'ECONNREFUSED', excerpt: null, durationMs: 1, at: '2026-01-01T00:00:00.000Z', nextAttemptAt: null },
      { id: a!.id, ok: true, statusCode: 200, error: null, excerpt: 'ok', durationMs: 2, at: '2026-01-01T00:00:02.000Z', nextAttemptAt: null },
    ]);
    expect(await getDelivery(db, tenantId, hook.id, a!.id)).toMatchObject({
      status: 'delivered', attempts: 2, roundAttempts: 2, lastStatusCode: 200, responseExcerpt: 'ok', firstAttemptAt: '2026-01-01T00:00:00.000Z', deliveredAt: '2026-01-01T00:00:02.000Z', nextAttemptAt: null,
    });
    expect(await getDelivery(db, tenantId, hook.id, b!.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'ECONNREFUSED', nextAttemptAt: null });
    expect((await listDeliveries(db, tenantId, hook.id, { status: 'pending' })).total).toBe(n - 2);
    expect((await listQueuePage(db, hook.id, 1))[0]!.sequence).toBe(seqs[2]);
    await store.close();
  });
});
