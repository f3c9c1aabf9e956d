import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Webhook delivery reads the outbox through a cursor per endpoint instead of a queue row per
 * (event, endpoint) written at fan-out. `webhook_cursors.sequence` is the last outbox sequence of
 * the endpoint's tenant it has handled: every event of that tenant at or before it was either not
 * wanted by the endpoint's filter or has its row in `webhook_deliveries`, and the row is written
 * with the attempt's outcome, in the same transaction as the cursor moves past it.
 *
 * Why (npm run bench:events, 2,000 events/s to 10 endpoints): fan-out inserted 20,000 pending rows
 * a second — five index entries each — and every outcome then rewrote the row and took it out of
 * the two pending indexes. Now a delivered event costs one insert, and `pending` rows exist only
 * for retries, redeliveries and a disabled endpoint's backlog.
 *
 * A table of its own rather than a column of `webhooks`: the cursor moves every few milliseconds,
 * and each move would rewrite the endpoint's whole row (its encrypted secret and headers) — and
 * this migration would have rewritten every endpoint row outside `upgradeWebhookHeaders`'
 * secure-delete pass, leaving pre-0010 clear header values in free pages.
 *
 * The cursor starts where fan-out stood: before the first event not fanned out yet (those are now
 * read through the cursor), else at the newest event. `outbox_events.dispatched_at` and its index go.
 *
 * `webhook_deliveries_event_uq` (webhook_id, event_id) goes too: it made enqueueing twice harmless,
 * and there is no enqueueing now — a row is written once, with the outcome that moves the cursor
 * past its event. It was one of four B-trees every delivered event's insert wrote (~20 % of it).
 */
export const webhookCursors: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('webhook_cursors')
      .addColumn('webhook_id', 'text', (c) => c.primaryKey().references('webhooks.id').onDelete('cascade'))
      .addColumn('sequence', 'integer', (c) => c.notNull())
      .modifyEnd(sql`without rowid`)
      .execute();
    await sql`insert into webhook_cursors (webhook_id, sequence) select id, coalesce(
      (select min(sequence) - 1 from outbox_events where dispatched_at is null),
      (select max(sequence) from outbox_events),
      0) from webhooks`.execute(db);
    await db.schema.dropIndex('outbox_events_undispatched_idx').ifExists().execute();
    await db.schema.alterTable('outbox_events').dropColumn('dispatched_at').execute();
    await db.schema.dropIndex('webhook_deliveries_event_uq').ifExists().execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('webhook_deliveries_event_uq').on('webhook_deliveries').columns(['webhook_id', 'event_id']).unique().execute();
    await db.schema.alterTable('outbox_events').addColumn('dispatched_at', 'text').execute();
    // Everything is treated as fanned out: the deliveries the cursors owed are not recreated.
    await sql`update outbox_events set dispatched_at = created_at`.execute(db);
    await db.schema.createIndex('outbox_events_undispatched_idx').on('outbox_events').columns(['dispatched_at', 'sequence']).execute();
    await db.schema.dropTable('webhook_cursors').ifExists().execute();
  },
};
