import { sql } from 'kysely';
import { uuidv7 } from '../../shared/ids.js';
import { nowIso, type Db } from '../database.js';
import { notFound } from '../db-errors.js';
import { chunkSizes } from '../statement-sizes.js';
import { takeOutOfRun } from './delivery-run.repository.js';
import { getDelivery, MAX_EXCERPT_CHARS, type WebhookDelivery } from './webhook-delivery.repository.js';
import type { DeliveryStatus, WebhookDeliveryTable } from './webhook.table.js';

/**
 * The dispatcher's queue over `webhook_deliveries`: each endpoint's pending deliveries (retries,
 * redeliveries, a disabled endpoint's backlog) form one queue ordered by outbox sequence, served
 * before the events past its cursor (delivery-cursor.repository.ts), and only its head is ever
 * attempted (per-endpoint order).
 */

/** A pending delivery to write: one outbox event owed to one endpoint. */
export interface DeliveryToEnqueue {
  webhookId: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  sequence: number;
  nextAttemptAt: string;
}

/**
 * Inserts pending deliveries: a disabled endpoint's backlog, read past its cursor (so none of them
 * has a row yet). Returns how many.
 */
export async function enqueueDeliveries(db: Db, items: readonly DeliveryToEnqueue[]): Promise<number> {
  if (items.length === 0) return 0;
  const now = nowIso();
  const rows: WebhookDeliveryTable[] = items.map((i) => ({
    id: uuidv7(), webhook_id: i.webhookId, tenant_id: i.tenantId, event_id: i.eventId, event_type: i.eventType, status: 'pending',
    attempts: 0, round_attempts: 0, last_status_code: null, last_error: null, response_excerpt: null, last_duration_ms: null,
    first_attempt_at: null, last_attempt_at: null, delivered_at: null, next_attempt_at: i.nextAttemptAt, sequence: i.sequence,
    created_at: now, updated_at: now,
  }));
  // Multi-row inserts, each under SQLite's 32,766 bound-variable limit (19 columns a row).
  let at = 0;
  for (const size of chunkSizes(rows.length, ENQUEUE_CHUNK)) {
    await db.insertInto('webhook_deliveries').values(rows.slice(at, at + size)).execute();
    at += size;
  }
  return rows.length;
}

const ENQUEUE_CHUNK = 1024;


/**
 * Queues a delivery again (redeliver): pending, due at `at`, with a fresh retry budget. The event
 * and its delivery id stay the same, so the receiver sees the same `webhook-id`.
 */
export async function requeueDelivery(db: Db, tenantId: string, webhookId: string, id: string, at: string): Promise<WebhookDelivery> {
  const requeue = () =>
    db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', round_attempts: 0, next_attempt_at: at, updated_at: nowIso() })
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .executeTakeFirst();
  let result = await requeue();
  // An item of a run (delivered at its first attempt) gets a row of its own first.
  if (Number(result.numUpdatedRows) === 0 && (await takeOutOfRun(db, tenantId, webhookId, id))) result = await requeue();
  if (Number(result.numUpdatedRows) === 0) throw notFound('webhook_delivery', id);
  return getDelivery(db, tenantId, webhookId, id);
}

/** A pending delivery with the event it sends (null once retention removed it). */
export interface QueuedDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  sequence: number;
  nextAttemptAt: string | null;
  roundAttempts: number;
  body: string | null;
}

/**
 * The next `limit` pending deliveries of one endpoint in queue (outbox sequence) order, each with
 * its event's body, in one statement: what the dispatcher attempts one after another. With
 * `afterSequence`, only those after it (the dispatcher skips what it attempted but has not recorded yet).
 */
export async function listQueuePage(db: Db, webhookId: string, limit: number, afterSequence = -1): Promise<QueuedDelivery[]> {
  const rows = await sql<{ id: string; tenant_id: string; event_id: string; event_type: string; sequence: number; next_attempt_at: string | null; round_attempts: number; envelope: string | null }>`
    select d.id, d.tenant_id, d.event_id, d.event_type, d.sequence, d.next_attempt_at, d.round_attempts, o.envelope
    from webhook_deliveries d left join outbox_events o on o.sequence = d.sequence
    where d.webhook_id = ${webhookId} and d.status = 'pending' and d.sequence > ${afterSequence}
    order by d.sequence limit ${limit}`.execute(db);
  return rows.rows.map((r) => ({
    id: r.id, tenantId: r.tenant_id, eventId: r.event_id, eventType: r.event_type, sequence: r.sequence, nextAttemptAt: r.next_attempt_at, roundAttempts: r.round_attempts, body: r.envelope,
  }));
}

/** One attempt's outcome, as {@link recordDeliveryOutcomes} writes it (see recordDeliveryAttempt for the fields). */
export interface DeliveryOutcomeRow {
  id: string;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  durationMs: number;
  at: string;
  /** Null ends the delivery (delivered, or failed); a time keeps it pending for that retry. */
  nextAttemptAt: string | null;
}

/** Rows per UPDATE: 9 bound values each, under SQLite's 32,766 limit. */
const OUTCOME_CHUNK = 512;

/**
 * Records many attempts' outcomes with one `UPDATE … FROM (VALUES …)` per chunk (SQLite ≥ 3.33),
 * the same effect per row as {@link recordDeliveryAttempt}. A delivery given twice is written in
 * order (the second in a later statement), never merged. The caller supplies the transaction.
 */
export async function recordDeliveryOutcomes(db: Db, outcomes: readonly DeliveryOutcomeRow[]): Promise<void> {
  const updatedAt = nowIso();
  let chunk: DeliveryOutcomeRow[] = [];
  let ids = new Set<string>();
  const statement = async (rows: DeliveryOutcomeRow[]) => {
    const values = sql.join(
      rows.map((o) => {
        const status: DeliveryStatus = o.ok ? 'delivered' : o.nextAttemptAt === null ? 'failed' : 'pending';
        return sql`(${o.id}, ${status}, ${o.statusCode}, ${o.error === null ? null : o.error.slice(0, 500)}, ${o.excerpt === null ? null : o.excerpt.slice(0, MAX_EXCERPT_CHARS)}, ${Math.round(o.durationMs)}, ${o.at}, ${o.ok ? null : o.nextAttemptAt}, ${o.ok ? o.at : null})`;
      }),
    );
    await sql`
      with v(v_id, v_status, v_code, v_error, v_excerpt, v_duration, v_at, v_next, v_delivered) as (values ${values})
      update webhook_deliveries set
        status = v.v_status, attempts = attempts + 1, round_attempts = round_attempts + 1, last_status_code = v.v_code,
        last_error = v.v_error, response_excerpt = v.v_excerpt, last_duration_ms = v.v_duration,
        first_attempt_at = coalesce(first_attempt_at, v.v_at), last_attempt_at = v.v_at, delivered_at = v.v_delivered,
        next_attempt_at = v.v_next, updated_at = ${updatedAt}
      from v where webhook_deliveries.id = v.v_id`.execute(db);
  };
  const write = async () => {
    let at = 0;
    for (const size of chunkSizes(chunk.length, OUTCOME_CHUNK)) {
      await statement(chunk.slice(at, at + size));
      at += size;
    }
    chunk = [];
    ids = new Set();
  };
  for (const o of outcomes) {
    if (ids.has(o.id)) await write();
    chunk.push(o);
    ids.add(o.id);
  }
  await write();
}
