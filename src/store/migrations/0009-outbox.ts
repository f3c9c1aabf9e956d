import type { Kysely, Migration } from 'kysely';

/**
 * The event outbox (issue 5 §2): every public event is written here in the same transaction as the
 * state change that caused it, so an event exists exactly when its change does. `sequence` is the
 * global order (commit order of the writers) and the cursor a WebSocket client resumes from.
 * `dispatched_at` marks rows whose webhook deliveries were fanned out (null = not yet), so a
 * restarted dispatcher picks up exactly the rest.
 *
 * `webhook_deliveries` gains `sequence` (the outbox row the delivery sends; null for test events,
 * which never enter the outbox) — the per-endpoint order and the join to the body — and
 * `round_attempts`, the attempts since the last (re)delivery request, which the retry count
 * limits (`attempts` keeps counting every attempt ever made, for the log).
 */
export const outbox: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('outbox_events')
      .addColumn('sequence', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('event_id', 'text', (c) => c.notNull().unique())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('occurred_at', 'text', (c) => c.notNull())
      // JSON.stringify(envelope) once: the exact bytes every attempt signs and sends.
      .addColumn('envelope', 'text', (c) => c.notNull())
      .addColumn('dispatched_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    // The dispatcher's scan (not yet fanned out, in order) and the WebSocket replay (tenant, from a cursor).
    await db.schema.createIndex('outbox_events_undispatched_idx').on('outbox_events').columns(['dispatched_at', 'sequence']).execute();
    await db.schema.createIndex('outbox_events_tenant_idx').on('outbox_events').columns(['tenant_id', 'sequence']).execute();
    // Retention: oldest first.
    await db.schema.createIndex('outbox_events_created_idx').on('outbox_events').columns(['created_at']).execute();

    await db.schema.alterTable('webhook_deliveries').addColumn('sequence', 'integer').execute();
    await db.schema.alterTable('webhook_deliveries').addColumn('round_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // The head of an endpoint's queue: its pending delivery of the lowest sequence.
    await db.schema.createIndex('webhook_deliveries_queue_idx').on('webhook_deliveries').columns(['webhook_id', 'status', 'sequence']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('webhook_deliveries_queue_idx').ifExists().execute();
    await db.schema.alterTable('webhook_deliveries').dropColumn('round_attempts').execute();
    await db.schema.alterTable('webhook_deliveries').dropColumn('sequence').execute();
    await db.schema.dropTable('outbox_events').ifExists().execute();
  },
};
