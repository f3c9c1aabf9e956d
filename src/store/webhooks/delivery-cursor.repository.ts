import { sql } from 'kysely';
import { fromDbBool, nowIso, type Db } from '../database.js';
import { MultiRowInsert } from '../statement-sizes.js';
import type { DeliveryOutcomeRow } from './delivery-queue.repository.js';
import { ofLiveEndpoints } from './delivery-run.repository.js';
import { MAX_EXCERPT_CHARS } from './webhook-delivery.js';
import type { BreakerState, DeliveryStatus } from './webhook.table.js';

/**
 * The dispatcher's reads and writes around each endpoint's outbox cursor (`webhook_cursors`, 0012):
 * events past the cursor are owed to the endpoint without any row; a delivery row is written when
 * an event's first attempt has its outcome, and the cursor moves past it in the same transaction.
 */

/** An endpoint as the dispatcher's scan sees it: whether it may be attempted, and whether and when it has work. */
export interface DispatchHead {
  webhookId: string;
  tenantId: string;
  enabled: boolean;
  breaker: { state: BreakerState; consecutiveFailures: number; pausedUntil: string | null };
  /** Its pending queue's head: the next attempt time (null: now); undefined when nothing is pending. */
  headDue: string | null | undefined;
  /**
   * The newest outbox sequence of its tenant when it has events past its stored cursor (else 0):
   * the dispatcher compares it with how far it got but has not committed yet.
   */
  newestSequence: number;
}

/**
 * Every endpoint with work — a pending delivery (a retry, a redelivery, a disabled endpoint's
 * backlog) or, if enabled, events of its tenant past its cursor — in one statement: per endpoint
 * two probes of the pending index and one of the outbox's (tenant_id, sequence) index (its last entry).
 */
export async function listDispatchHeads(db: Db): Promise<DispatchHead[]> {
  const head = (column: string) => sql.raw(`(select d.${column} from webhook_deliveries d where d.webhook_id = w.id and d.status = 'pending' and d.sequence is not null order by d.sequence limit 1)`);
  const rows = await sql<{ id: string; tenant_id: string; enabled: number; breaker_state: BreakerState; consecutive_failures: number; paused_until: string | null; head_id: string | null; head_due: string | null; newest: number | null }>`
    select w.id, w.tenant_id, w.enabled, w.breaker_state, w.consecutive_failures, w.paused_until, ${head('id')} as head_id, ${head('next_attempt_at')} as head_due,
      (select max(o.sequence) from outbox_events o where o.tenant_id = w.tenant_id and o.sequence > coalesce(c.sequence, 0)) as newest
    from webhooks w left join webhook_cursors c on c.webhook_id = w.id order by w.id`.execute(db);
  return rows.rows
    .filter((r) => r.head_id !== null || (r.enabled !== 0 && r.newest !== null))
    .map((r) => ({
      webhookId: r.id, tenantId: r.tenant_id, enabled: fromDbBool(r.enabled),
      breaker: { state: r.breaker_state, consecutiveFailures: r.consecutive_failures, pausedUntil: r.paused_until },
      headDue: r.head_id === null ? undefined : r.head_due, newestSequence: r.newest ?? 0,
    }));
}

/**
 * The first attempt's outcome of an event read past an endpoint's cursor: its delivery row is
 * written with it. The event's fields stay in their own object (`first`), as the dispatcher makes
 * them: spreading them into the outcome cost ~5 µs a row (V8's slow path for a spread of an object
 * holding an object), a tenth of the main thread at 16,000 deliveries a second.
 */
export interface FirstAttemptRow extends DeliveryOutcomeRow {
  webhookId: string;
  first: { tenantId: string; eventId: string; eventType: string; sequence: number };
}

/** Rows per INSERT: 17 bound values each, under SQLite's 32,766 limit. */
const insertRows = new MultiRowInsert<FirstAttemptRow, string>(
  `insert into webhook_deliveries (id, webhook_id, tenant_id, event_id, event_type, status, attempts, round_attempts, last_status_code,
  last_error, response_excerpt, last_duration_ms, first_attempt_at, last_attempt_at, delivered_at, next_attempt_at, sequence, created_at, updated_at) values `,
  '(?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  1024,
  (o, params, now) => {
    const e = o.first;
    const status: DeliveryStatus = o.ok ? 'delivered' : o.nextAttemptAt === null ? 'failed' : 'pending';
    params.push(
      o.id, o.webhookId, e.tenantId, e.eventId, e.eventType, status, o.statusCode, o.error === null ? null : o.error.slice(0, 500),
      o.excerpt === null ? null : o.excerpt.slice(0, MAX_EXCERPT_CHARS), Math.round(o.durationMs), o.at, o.at, o.ok ? o.at : null, o.ok ? null : o.nextAttemptAt,
      e.sequence, now, now,
    );
  },
);

/**
 * Writes the delivery rows of first attempts that did not go through (a page's successes are a
 * run, see delivery-run.repository.ts): failed, or pending for the retry at `nextAttemptAt`. The
 * caller supplies the transaction, with the cursor's move past them.
 */
export async function insertFirstAttempts(db: Db, given: readonly FirstAttemptRow[]): Promise<void> {
  if (given.length === 0) return;
  await insertRows.run(db, await ofLiveEndpoints(db, given), nowIso());
}

/** The endpoint's cursor (0 if it has none: everything still in the outbox is owed). */
export async function getWebhookCursor(db: Db, webhookId: string): Promise<number> {
  const row = await db.selectFrom('webhook_cursors').select('sequence').where('webhook_id', '=', webhookId).executeTakeFirst();
  return row?.sequence ?? 0;
}

/** Moves endpoints' cursors forward (never back: a disable may have moved one further meanwhile); an endpoint deleted meanwhile is skipped. */
export async function advanceWebhookCursors(db: Db, cursors: ReadonlyMap<string, number>): Promise<void> {
  for (const [id, sequence] of cursors) {
    await sql`insert into webhook_cursors (webhook_id, sequence) select ${id}, ${sequence} where exists (select 1 from webhooks where id = ${id})
      on conflict (webhook_id) do update set sequence = max(sequence, excluded.sequence)`.execute(db);
  }
}

/**
 * What an endpoint is owed and not sent yet, for the API: its pending deliveries (retries,
 * redeliveries, the backlog kept while it was disabled) and the types of its tenant's events past
 * its cursor, oldest first, at most `limit` (the caller applies the endpoint's filter). `more`: the
 * outbox holds more of them than `limit`.
 */
export async function getWebhookBacklog(db: Db, tenantId: string, webhookId: string, limit: number): Promise<{ pending: number; typesPastCursor: string[]; more: boolean }> {
  const pending = await sql<{ n: number }>`select count(*) as n from webhook_deliveries where webhook_id = ${webhookId} and status = 'pending'`.execute(db);
  const cursor = await getWebhookCursor(db, webhookId);
  const rows = await sql<{ type: string }>`select type from outbox_events indexed by outbox_events_tenant_idx
    where tenant_id = ${tenantId} and sequence > ${cursor} order by sequence limit ${limit + 1}`.execute(db);
  const types = rows.rows.map((r) => r.type);
  return { pending: Number(pending.rows[0]?.n ?? 0), typesPastCursor: types.slice(0, limit), more: types.length > limit };
}
