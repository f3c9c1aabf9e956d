import { uuid } from '../../shared/ids.js';
import { nowIso, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import { countRunDeliveries, getRunDelivery, listRunHeads, pruneDeliveryRuns, readRuns, runItemDelivery, type RunHead } from './delivery-run.repository.js';
import type { DeliveryRunItem, DeliveryStatus, WebhookDeliveryTable } from './webhook.table.js';
import { MAX_EXCERPT_CHARS, type WebhookDelivery } from './webhook-delivery.js';

export { MAX_EXCERPT_CHARS, type WebhookDelivery } from './webhook-delivery.js';

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

/** One delivery of an endpoint of the tenant (its own row, or an item of a run), or `WEBHOOK_DELIVERY_NOT_FOUND`. */
export async function getDelivery(db: Db, tenantId: string, webhookId: string, id: string): Promise<WebhookDelivery> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (row) return toDelivery(row);
  const inRun = await getRunDelivery(db, tenantId, webhookId, id);
  if (!inRun) throw notFound('webhook_delivery', id);
  return inRun;
}

/**
 * An endpoint's delivery log, newest first (created_at, then id), optionally by status: its
 * delivery rows and the items of its runs (first-attempt successes, all `delivered`), merged.
 * A run is placed by its own created_at and id, its items newest (highest index) first; only the
 * runs the page touches have their items read.
 */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  webhookId: string,
  page: PageRequest & { status?: DeliveryStatus } = {},
): Promise<Page<WebhookDelivery>> {
  const { limit, offset } = pageBounds(page);
  let query = db.selectFrom('webhook_deliveries').where('tenant_id', '=', tenantId).where('webhook_id', '=', webhookId);
  if (page.status !== undefined) query = query.where('status', '=', page.status);
  const ordered = query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
  const countRows = async () => Number((await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  if (page.status !== undefined && page.status !== 'delivered') {
    const [rows, total] = await Promise.all([ordered.limit(limit).offset(offset).execute(), countRows()]);
    return { items: rows.map(toDelivery), total };
  }
  const want = offset + limit;
  const [rows, rowCount, runCount] = await Promise.all([ordered.limit(want).execute(), countRows(), countRunDeliveries(db, tenantId, webhookId)]);
  const heads: RunHead[] = [];
  for (let held = 0; held < want; ) {
    const last = heads.at(-1);
    const more = await listRunHeads(db, tenantId, webhookId, 100, last && { createdAt: last.createdAt, id: last.id });
    heads.push(...more);
    held += more.reduce((n, h) => n + h.count, 0);
    if (more.length < 100) break;
  }
  // Walk both, newest first, as slices: a row is one delivery, a run `count` of them.
  type Slice = { row: WebhookDeliveryTable } | { run: RunHead; skip: number; take: number };
  const slices: Slice[] = [];
  let skip = offset;
  let take = limit;
  for (let r = 0, h = 0; take > 0 && (r < rows.length || h < heads.length); ) {
    const row = rows[r];
    const head = heads[h];
    const rowFirst = row && (!head || row.created_at > head.createdAt || (row.created_at === head.createdAt && row.id > head.id));
    if (rowFirst) {
      r++;
      if (skip > 0) skip--;
      else {
        slices.push({ row });
        take--;
      }
    } else if (head) {
      h++;
      const skipped = Math.min(skip, head.count);
      skip -= skipped;
      const taken = Math.min(take, head.count - skipped);
      if (taken > 0) {
        slices.push({ run: head, skip: skipped, take: taken });
        take -= taken;
      }
    }
  }
  const runs = await readRuns(db, slices.flatMap((s) => ('run' in s ? [s.run.id] : [])));
  const items: WebhookDelivery[] = [];
  for (const s of slices) {
    if ('row' in s) {
      items.push(toDelivery(s.row));
      continue;
    }
    const run = runs.get(s.run.id);
    if (!run) continue;
    const entries = JSON.parse(run.items) as (DeliveryRunItem | null)[];
    let skipped = 0;
    let taken = 0;
    for (let i = entries.length - 1; i >= 0 && taken < s.take; i--) {
      const entry = entries[i];
      if (!entry) continue;
      if (skipped < s.skip) skipped++;
      else {
        items.push(runItemDelivery(run, i, entry));
        taken++;
      }
    }
  }
  return { items, total: rowCount + runCount };
}

/**
 * Delivery-log retention: deletes ended deliveries (delivered or failed) created before `before`,
 * endpoint by endpoint through the (webhook_id, created_at) indexes, at most `limit` rows (and
 * `limit` runs) per endpoint per call so a large backlog never holds the write lock for long. A
 * pending delivery is owed and is never deleted, however old. Returns the count of deliveries.
 */
export async function pruneDeliveryLog(db: Db, opts: { before: string; limit?: number }): Promise<number> {
  const hooks = await db.selectFrom('webhooks').select('id').execute();
  const limit = opts.limit ?? 5000;
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
          .limit(limit),
      )
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows) + (await pruneDeliveryRuns(db, id, opts.before, limit));
  }
  return deleted;
}
