import { uuid } from '../../shared/ids.js';
import { nowIso, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import type { DeliveryStatus, WebhookDeliveryTable } from './webhook.table.js';

/** One event to one endpoint, as the delivery log shows it. */
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  responseExcerpt: string | null;
  lastDurationMs: number | null;
  firstAttemptAt: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  /** The outbox sequence of the event (null for test events, which are not in the outbox). */
  sequence: number | null;
  /** Attempts since the delivery was (re)queued; the retry count limits these. */
  roundAttempts: number;
  createdAt: string;
  updatedAt: string;
}

/** The delivery log keeps at most this much of a receiver's answer (characters; the HTTP client caps bytes too). */
export const MAX_EXCERPT_CHARS = 1024;

function toDelivery(row: WebhookDeliveryTable): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    tenantId: row.tenant_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    responseExcerpt: row.response_excerpt,
    lastDurationMs: row.last_duration_ms,
    firstAttemptAt: row.first_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    deliveredAt: row.delivered_at,
    nextAttemptAt: row.next_attempt_at,
    sequence: row.sequence,
    roundAttempts: row.round_attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Records that `eventId` is owed to an endpoint (status pending, due at `nextAttemptAt`, now by
 * default): the API's test event, whose attempt is recorded on it.
 */
export async function createDelivery(
  db: Db,
  input: { webhookId: string; tenantId: string; eventId: string; eventType: string; nextAttemptAt?: string; id?: string; sequence?: number | null },
): Promise<WebhookDelivery> {
  const now = nowIso();
  const row: WebhookDeliveryTable = {
    // A caller may choose the id up front: it is the X-Request-ID of the attempt being recorded.
    id: input.id ?? uuid(),
    webhook_id: input.webhookId,
    tenant_id: input.tenantId,
    event_id: input.eventId,
    event_type: input.eventType,
    status: 'pending',
    attempts: 0,
    last_status_code: null,
    last_error: null,
    response_excerpt: null,
    last_duration_ms: null,
    first_attempt_at: null,
    last_attempt_at: null,
    delivered_at: null,
    next_attempt_at: input.nextAttemptAt ?? now,
    sequence: input.sequence ?? null,
    round_attempts: 0,
    created_at: now,
    updated_at: now,
  };
  await withDbErrors('webhook delivery', () => db.insertInto('webhook_deliveries').values(row).execute());
  return toDelivery(row);
}

/**
 * Records one attempt's outcome. `nextAttemptAt` null ends the delivery: `delivered` on success,
 * else `failed`; a date keeps it `pending` for the retry at that time. One UPDATE, so a crash
 * leaves either the old or the new state, never half of one.
 */
export async function recordDeliveryAttempt(
  db: Db,
  id: string,
  attempt: { ok: boolean; statusCode: number | null; error: string | null; excerpt: string | null; durationMs: number; at: string; nextAttemptAt: string | null },
): Promise<WebhookDelivery> {
  const status: DeliveryStatus = attempt.ok ? 'delivered' : attempt.nextAttemptAt === null ? 'failed' : 'pending';
  const row = await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status,
      attempts: eb('attempts', '+', 1),
      round_attempts: eb('round_attempts', '+', 1),
      last_status_code: attempt.statusCode,
      last_error: attempt.error === null ? null : attempt.error.slice(0, 500),
      response_excerpt: attempt.excerpt === null ? null : attempt.excerpt.slice(0, MAX_EXCERPT_CHARS),
      last_duration_ms: Math.round(attempt.durationMs),
      first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(attempt.at)),
      last_attempt_at: attempt.at,
      delivered_at: attempt.ok ? attempt.at : null,
      next_attempt_at: attempt.ok ? null : attempt.nextAttemptAt,
      updated_at: nowIso(),
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw notFound('webhook delivery', id);
  return toDelivery(row);
}

/** One delivery of an endpoint of the tenant, or `WEBHOOK_DELIVERY_NOT_FOUND`. */
export async function getDelivery(db: Db, tenantId: string, webhookId: string, id: string): Promise<WebhookDelivery> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('webhook_delivery', id);
  return toDelivery(row);
}

/** An endpoint's delivery log, newest first, optionally by status. */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  webhookId: string,
  page: PageRequest & { status?: DeliveryStatus } = {},
): Promise<Page<WebhookDelivery>> {
  const { limit, offset } = pageBounds(page);
  let query = db.selectFrom('webhook_deliveries').where('tenant_id', '=', tenantId).where('webhook_id', '=', webhookId);
  if (page.status !== undefined) query = query.where('status', '=', page.status);
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toDelivery), total: Number(count.n) };
}

/**
 * Delivery-log retention: deletes ended deliveries (delivered or failed) created before `before`,
 * endpoint by endpoint through the (webhook_id, created_at) index, at most `limit` rows per endpoint
 * per call so a large backlog never holds the write lock for long. A pending delivery is owed and is
 * never deleted, however old. Returns the count.
 */
export async function pruneDeliveryLog(db: Db, opts: { before: string; limit?: number }): Promise<number> {
  const hooks = await db.selectFrom('webhooks').select('id').execute();
  let deleted = 0;
  for (const { id } of hooks) {
    const result = await db
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('webhook_id', '=', id)
          .where('created_at', '<', opts.before)
          .where('status', '<>', 'pending')
          .orderBy('created_at')
          .limit(opts.limit ?? 5000),
      )
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}
