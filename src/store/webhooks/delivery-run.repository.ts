import { sql } from 'kysely';
import { nowIso, type Db } from '../database.js';
import { MultiRowInsert } from '../statement-sizes.js';
import type { DeliveryRunItem, WebhookDeliveryRunTable } from './webhook.table.js';
import type { WebhookDelivery } from './webhook-delivery.js';

/**
 * The delivery log's runs (`webhook_delivery_runs`, 0013): an endpoint page's first-attempt
 * successes in one row. Item `i` of run `R` has the delivery id `R` with its last four hex digits
 * replaced by `i` (`uuidv7Block`); a redelivered item moves into a `webhook_deliveries` row of its
 * own (same id) and is `null` in the run.
 */
export interface DeliveryRunRow {
  /** The delivery id of item 0. */
  id: string;
  webhookId: string;
  tenantId: string;
  items: DeliveryRunItem[];
}

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The run a delivery id would belong to and its index there (undefined: not a UUID v7, so no run's). */
export function runPlaceOf(deliveryId: string): { runId: string; index: number } | undefined {
  if (!RUN_ID.test(deliveryId)) return undefined;
  return { runId: `${deliveryId.slice(0, -4)}0000`, index: parseInt(deliveryId.slice(-4), 16) };
}

/** The delivery id of item `index` of run `runId`. */
export function runDeliveryId(runId: string, index: number): string {
  return runId.slice(0, -4) + (0x10000 + index).toString(16).slice(1);
}

/** A run's item as the delivery log shows every delivery: delivered at its first attempt. */
export function runItemDelivery(run: Pick<WebhookDeliveryRunTable, 'id' | 'webhook_id' | 'tenant_id' | 'created_at'>, index: number, item: DeliveryRunItem): WebhookDelivery {
  const [eventId, eventType, sequence, statusCode, durationMs, atMs, excerpt] = item;
  const at = new Date(atMs).toISOString();
  return {
    id: runDeliveryId(run.id, index), webhookId: run.webhook_id, tenantId: run.tenant_id, eventId, eventType, status: 'delivered',
    attempts: 1, lastStatusCode: statusCode, lastError: null, responseExcerpt: excerpt, lastDurationMs: durationMs,
    firstAttemptAt: at, lastAttemptAt: at, deliveredAt: at, nextAttemptAt: null, sequence, roundAttempts: 1,
    createdAt: run.created_at, updatedAt: run.created_at,
  };
}

/** Rows per INSERT: 6 bound values each. */
const insertRuns = new MultiRowInsert<DeliveryRunRow, string>(
  'insert into webhook_delivery_runs (id, webhook_id, tenant_id, count, items, created_at) values ',
  '(?, ?, ?, ?, ?, ?)',
  256,
  (r, params, now) => params.push(r.id, r.webhookId, r.tenantId, r.items.length, JSON.stringify(r.items), now),
);

/**
 * Writes runs (multi-row inserts) in the caller's transaction, with the cursors' moves past their
 * events. A run of an endpoint deleted meanwhile is left out (see {@link ofLiveEndpoints}).
 */
export async function insertDeliveryRuns(db: Db, given: readonly DeliveryRunRow[]): Promise<void> {
  if (given.length === 0) return;
  await insertRuns.run(db, await ofLiveEndpoints(db, given), nowIso());
}

/**
 * The rows whose endpoint still exists: one row of an endpoint deleted meanwhile would fail its
 * foreign key and roll back the whole batch, every other endpoint's outcomes with it. One lookup
 * of the batch's endpoints (a handful), rather than a subquery per row (~1.5 µs a row).
 */
export async function ofLiveEndpoints<T extends { webhookId: string }>(db: Db, rows: readonly T[]): Promise<readonly T[]> {
  const live = await liveEndpoints(db, rows);
  return rows.every((r) => live.has(r.webhookId)) ? rows : rows.filter((r) => live.has(r.webhookId));
}

/** Which of the rows' endpoints still exist (one lookup of the batch's handful of endpoints). */
async function liveEndpoints(db: Db, rows: readonly { webhookId: string }[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const r of rows) ids.add(r.webhookId);
  if (ids.size === 0) return ids;
  const live = await db.selectFrom('webhooks').select('id').where('id', 'in', [...ids]).execute();
  return new Set(live.map((w) => w.id));
}

const RUN_COLUMNS = ['id', 'webhook_id', 'tenant_id', 'items', 'created_at', 'count'] as const;
type RunRow = Pick<WebhookDeliveryRunTable, (typeof RUN_COLUMNS)[number]>;

async function readRun(db: Db, tenantId: string, webhookId: string, runId: string): Promise<RunRow | undefined> {
  return db
    .selectFrom('webhook_delivery_runs')
    .select(RUN_COLUMNS)
    .where('id', '=', runId)
    .where('tenant_id', '=', tenantId)
    .where('webhook_id', '=', webhookId)
    .executeTakeFirst();
}

/** The delivery `id` if it is an item of a run of the endpoint (and not redelivered since). */
export async function getRunDelivery(db: Db, tenantId: string, webhookId: string, id: string): Promise<WebhookDelivery | undefined> {
  const place = runPlaceOf(id);
  if (!place) return undefined;
  const run = await readRun(db, tenantId, webhookId, place.runId);
  const item = run && (JSON.parse(run.items) as (DeliveryRunItem | null)[])[place.index];
  return run && item ? runItemDelivery(run, place.index, item) : undefined;
}

/**
 * Moves a run's item into a `webhook_deliveries` row of its own, with the same id and history (so
 * a redelivery can queue it like any other); the run keeps `null` in its place. Run it in the
 * caller's transaction. False when `id` is no item of the endpoint's runs.
 */
export async function takeOutOfRun(db: Db, tenantId: string, webhookId: string, id: string): Promise<boolean> {
  const place = runPlaceOf(id);
  if (!place) return false;
  const run = await readRun(db, tenantId, webhookId, place.runId);
  if (!run) return false;
  const items = JSON.parse(run.items) as (DeliveryRunItem | null)[];
  const item = items[place.index];
  if (!item) return false;
  const d = runItemDelivery(run, place.index, item);
  await db
    .insertInto('webhook_deliveries')
    .values({
      id: d.id, webhook_id: d.webhookId, tenant_id: d.tenantId, event_id: d.eventId, event_type: d.eventType, status: 'delivered', attempts: 1,
      last_status_code: d.lastStatusCode, last_error: null, response_excerpt: d.responseExcerpt, last_duration_ms: d.lastDurationMs,
      first_attempt_at: d.firstAttemptAt, last_attempt_at: d.lastAttemptAt, delivered_at: d.deliveredAt, next_attempt_at: null, sequence: d.sequence,
      round_attempts: 1, created_at: d.createdAt, updated_at: nowIso(),
    })
    .execute();
  items[place.index] = null;
  if (run.count <= 1) await db.deleteFrom('webhook_delivery_runs').where('id', '=', run.id).execute();
  else await db.updateTable('webhook_delivery_runs').set({ items: JSON.stringify(items), count: run.count - 1 }).where('id', '=', run.id).execute();
  return true;
}

/** A run without its items: where it sits in the log and how many deliveries it holds. */
export interface RunHead {
  id: string;
  createdAt: string;
  count: number;
}

/**
 * The endpoint's runs, newest first (created_at, then id), after `before` when given, at most
 * `limit`: enough of them to place a page of the log without reading any items.
 */
export async function listRunHeads(db: Db, tenantId: string, webhookId: string, limit: number, before?: { createdAt: string; id: string }): Promise<RunHead[]> {
  const older = before ? sql`and (created_at < ${before.createdAt} or (created_at = ${before.createdAt} and id < ${before.id}))` : sql``;
  const rows = await sql<{ id: string; created_at: string; count: number }>`select id, created_at, count from webhook_delivery_runs
    where webhook_id = ${webhookId} and tenant_id = ${tenantId} ${older} order by created_at desc, id desc limit ${limit}`.execute(db);
  return rows.rows.map((r) => ({ id: r.id, createdAt: r.created_at, count: r.count }));
}

/** How many deliveries the endpoint's runs hold. */
export async function countRunDeliveries(db: Db, tenantId: string, webhookId: string): Promise<number> {
  const row = await sql<{ n: number | null }>`select sum(count) as n from webhook_delivery_runs where webhook_id = ${webhookId} and tenant_id = ${tenantId}`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

/** Runs by id, with their items. */
export async function readRuns(db: Db, ids: readonly string[]): Promise<Map<string, RunRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('webhook_delivery_runs').select(RUN_COLUMNS).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Retention for runs: deletes the endpoint's runs created before `before`, at most `limit` rows; returns the deliveries they held. */
export async function pruneDeliveryRuns(db: Db, webhookId: string, before: string, limit: number): Promise<number> {
  const rows = await sql<{ count: number }>`delete from webhook_delivery_runs where id in (
    select id from webhook_delivery_runs where webhook_id = ${webhookId} and created_at < ${before} order by created_at limit ${limit}) returning count`.execute(db);
  return rows.rows.reduce((n, r) => n + r.count, 0);
}
