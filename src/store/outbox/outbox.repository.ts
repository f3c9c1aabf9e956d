import { CompiledQuery, sql, type Transaction } from 'kysely';
import type { EventEnvelope } from '../../events/envelope.js';
import type { Database, Db } from '../database.js';

/** One stored event: its place in the global order and the exact JSON that is sent. */
export interface OutboxEvent {
  sequence: number;
  eventId: string;
  tenantId: string;
  type: string;
  occurredAt: string;
  /** The envelope as JSON text, byte for byte what receivers get (never re-serialised). */
  body: string;
}

type Row = { sequence: number; event_id: string; tenant_id: string; type: string; occurred_at: string; envelope: string };

const toEvent = (r: Row): OutboxEvent => ({
  sequence: r.sequence, eventId: r.event_id, tenantId: r.tenant_id, type: r.type, occurredAt: r.occurred_at, body: r.envelope,
});

const APPEND_SQL = 'insert into outbox_events (event_id, tenant_id, type, occurred_at, envelope, created_at) values (?, ?, ?, ?, ?, ?) returning sequence';

/**
 * Writes events to the outbox. Takes a transaction on purpose: the caller passes the one its state
 * change runs in, so the event and the change commit (or roll back) together — an event is never
 * lost after its change committed, and never sent for a change that did not happen (issue 5 §2).
 * Returns the sequences, in the order given.
 *
 * One fixed statement, compiled by hand rather than built by Kysely each time: every event of
 * every call goes through here, and building and compiling the insert through Kysely's query tree
 * cost ~12-15 µs an event, about as much as the insert itself (a scratch loop of 20-event
 * transactions: 33-37 µs an event built, 21-22 µs with this statement, commit included).
 */
export async function appendOutboxEvents(trx: Transaction<Database>, envelopes: readonly EventEnvelope[], createdAt: string = new Date().toISOString()): Promise<number[]> {
  const sequences: number[] = [];
  for (const e of envelopes) {
    const result = await trx.executeQuery<{ sequence: number }>(CompiledQuery.raw(APPEND_SQL, [e.id, e.tenant_id, e.type, e.timestamp, JSON.stringify(e), createdAt]));
    const row = result.rows[0];
    if (row === undefined) throw new Error('outbox insert returned no sequence');
    sequences.push(row.sequence);
  }
  return sequences;
}

/** The oldest `limit` events in the outbox, in sequence order (what tests and tools inspect). */
export async function listOutboxEvents(db: Db, limit = 200): Promise<OutboxEvent[]> {
  const rows = await db.selectFrom('outbox_events').selectAll().orderBy('sequence').limit(limit).execute();
  return rows.map(toEvent);
}

/** One event by its id; undefined once retention removed it (or it never was an outbox event, like webhook.test). */
export async function findOutboxEvent(db: Db, eventId: string): Promise<OutboxEvent | undefined> {
  const row = await db.selectFrom('outbox_events').selectAll().where('event_id', '=', eventId).executeTakeFirst();
  return row && toEvent(row);
}

/**
 * Retention: deletes events written before `before` that no webhook still owes: no enabled endpoint
 * of the event's tenant has its cursor before it (see 0012_webhook_cursors), and no pending delivery
 * (a retry, a redelivery, a disabled endpoint's backlog) sends it — an event still owed to someone is
 * kept however old. Deletes at most `limit` rows per call so a large backlog never holds the write
 * lock for long. Returns the count.
 */
export async function pruneOutbox(db: Db, opts: { before: string; limit?: number }): Promise<number> {
  const result = await db
    .deleteFrom('outbox_events')
    .where('sequence', 'in', (eb) =>
      eb
        .selectFrom('outbox_events as o')
        .select('o.sequence')
        .where('o.created_at', '<', opts.before)
        .where(({ not, exists }) =>
          not(exists(sql`(select 1 from webhooks w left join webhook_cursors c on c.webhook_id = w.id where w.enabled = 1 and w.tenant_id = o.tenant_id and coalesce(c.sequence, 0) < o.sequence)`)),
        )
        // 'pending' as a literal, not a bound value, so SQLite can use the pending-only index.
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('webhook_deliveries as d').select(sql.lit(1).as('x')).whereRef('d.sequence', '=', 'o.sequence').where(sql<boolean>`d.status = 'pending'`))),
        )
        .orderBy('o.sequence')
        .limit(opts.limit ?? 1000),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Events after `afterSequence`, oldest first, at most `limit`: how the WebSocket stream reads both
 * a client's replay and the live tail, so both share the outbox's one order. `tenantId` narrows to
 * one tenant (omit for all, for a primary-tenant admin).
 */
export async function listOutboxEventsAfter(db: Db, afterSequence: number, opts: { limit?: number; tenantId?: string } = {}): Promise<OutboxEvent[]> {
  const limit = opts.limit ?? 500;
  if (opts.tenantId === undefined) {
    const rows = await db.selectFrom('outbox_events').selectAll().where('sequence', '>', afterSequence).orderBy('sequence').limit(limit).execute();
    return rows.map(toEvent);
  }
  // One tenant's events through its (tenant_id, sequence) index, named: SQLite picks it today (no
  // statistics), but once statistics say one tenant wrote most rows (ANALYZE, PRAGMA optimize) it
  // prefers walking the primary key from `afterSequence` and filtering by tenant — reading every
  // other tenant's event since then, all of a busy tenant's day for a quiet tenant's webhook or
  // stream client whose last event was hours ago.
  const rows = await sql<Row>`select * from outbox_events indexed by outbox_events_tenant_idx
    where tenant_id = ${opts.tenantId} and sequence > ${afterSequence} order by sequence limit ${limit}`.execute(db);
  return rows.rows.map(toEvent);
}

/** The newest sequence in the outbox (0 when empty): where a client that asks for no replay starts. */
export async function latestOutboxSequence(db: Db): Promise<number> {
  const row = await db.selectFrom('outbox_events').select((eb) => eb.fn.max('sequence').as('max')).executeTakeFirst();
  return Number(row?.max ?? 0);
}
