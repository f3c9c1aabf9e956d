import { uuid } from '../../shared/ids.js';
import { nowIso, type Db } from '../database.js';
import { notFound } from '../db-errors.js';
import { getDelivery, type WebhookDelivery } from './webhook-delivery.repository.js';
import type { WebhookDeliveryTable } from './webhook.table.js';

/**
 * The dispatcher's queue over `webhook_deliveries`: each endpoint's pending deliveries form one
 * queue ordered by outbox sequence, and only its head is ever attempted (per-endpoint order).
 */

/** What fan-out owes one endpoint for one outbox event. */
export interface DeliveryToEnqueue {
  webhookId: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  sequence: number;
  nextAttemptAt: string;
}

/**
 * Inserts pending deliveries, skipping any (endpoint, event) pair that already has one: a
 * dispatcher that crashed between fan-out and marking the event dispatched enqueues it again
 * harmlessly. Returns how many were new.
 */
export async function enqueueDeliveries(db: Db, items: readonly DeliveryToEnqueue[]): Promise<number> {
  if (items.length === 0) return 0;
  const now = nowIso();
  const rows: WebhookDeliveryTable[] = items.map((i) => ({
    id: uuid(), webhook_id: i.webhookId, tenant_id: i.tenantId, event_id: i.eventId, event_type: i.eventType, status: 'pending',
    attempts: 0, round_attempts: 0, last_status_code: null, last_error: null, response_excerpt: null, last_duration_ms: null,
    first_attempt_at: null, last_attempt_at: null, delivered_at: null, next_attempt_at: i.nextAttemptAt, sequence: i.sequence,
    created_at: now, updated_at: now,
  }));
  const result = await db.insertInto('webhook_deliveries').values(rows).onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/** The head of every endpoint's queue: its pending delivery with the lowest sequence. */
export async function listQueueHeads(db: Db): Promise<WebhookDelivery[]> {
  // Per endpoint, one probe of the (webhook_id, status, sequence) index: a GROUP BY over the
  // deliveries read every row of the table on every scan, so the dispatcher slowed as its history
  // grew (npm run bench:events: ~100 deliveries/s falling to ~10 with 100k rows).
  const rows = await db
    .selectFrom('webhooks as w')
    .select((eb) => [
      'w.id as webhook_id',
      eb
        .selectFrom('webhook_deliveries as d')
        .select((e) => e.fn.min<number>('d.sequence').as('m'))
        .whereRef('d.webhook_id', '=', 'w.id')
        .where('d.status', '=', 'pending')
        .where('d.sequence', 'is not', null)
        .as('head'),
    ])
    .orderBy('w.id')
    .execute();
  const heads = rows.filter((r): r is { webhook_id: string; head: number } => r.head !== null && r.head !== undefined);
  const out: WebhookDelivery[] = [];
  for (const h of heads) {
    const row = await db.selectFrom('webhook_deliveries').select(['id', 'tenant_id']).where('webhook_id', '=', h.webhook_id).where('sequence', '=', h.head).executeTakeFirst();
    if (row) out.push(await getDelivery(db, row.tenant_id, h.webhook_id, row.id));
  }
  return out;
}

/**
 * Queues a delivery again (redeliver): pending, due at `at`, with a fresh retry budget. The event
 * and its delivery id stay the same, so the receiver sees the same `webhook-id`.
 */
export async function requeueDelivery(db: Db, tenantId: string, webhookId: string, id: string, at: string): Promise<WebhookDelivery> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', round_attempts: 0, next_attempt_at: at, updated_at: nowIso() })
    .where('tenant_id', '=', tenantId)
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw notFound('webhook_delivery', id);
  return getDelivery(db, tenantId, webhookId, id);
}
