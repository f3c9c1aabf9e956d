import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The dispatcher's queue indexes hold pending deliveries only. `webhook_deliveries` keeps every
 * delivery for the log (20,000 rows a second when 2,000 events/s go to 10 endpoints), but only the
 * pending ones are ever looked up by queue order: a partial index (`where status = 'pending'`) stays
 * as small as the backlog, so it stays in cache, and a delivery leaves it when it is recorded.
 *
 * - `webhook_deliveries_queue_idx` (webhook_id, status, sequence) kept every delivered row too.
 * - `webhook_deliveries_due_idx` (status, next_attempt_at) was read by nothing since the dispatcher
 *   reads each endpoint's queue in order; it cost two index writes per delivery.
 * - Retention asks "is this event still pending for anyone?" by sequence alone, which no index
 *   answered (each candidate event scanned the deliveries); `webhook_deliveries_pending_seq_idx` does.
 *
 * Queries must spell `status = 'pending'` as a literal for SQLite to use a partial index.
 */
export const pendingDeliveryIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('webhook_deliveries_due_idx').ifExists().execute();
    await db.schema.dropIndex('webhook_deliveries_queue_idx').ifExists().execute();
    await sql`create index webhook_deliveries_pending_idx on webhook_deliveries (webhook_id, sequence) where status = 'pending'`.execute(db);
    await sql`create index webhook_deliveries_pending_seq_idx on webhook_deliveries (sequence) where status = 'pending'`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('webhook_deliveries_pending_seq_idx').ifExists().execute();
    await db.schema.dropIndex('webhook_deliveries_pending_idx').ifExists().execute();
    await db.schema.createIndex('webhook_deliveries_queue_idx').on('webhook_deliveries').columns(['webhook_id', 'status', 'sequence']).execute();
    await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  },
};
