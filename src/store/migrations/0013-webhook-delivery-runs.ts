import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The delivery log keeps an endpoint's first-attempt successes as runs: one row per page of
 * consecutive events that went through at their first attempt, the deliveries in a JSON array
 * (`items`), instead of a `webhook_deliveries` row each. Retries, failures, redeliveries and test
 * events keep their own rows there; a redelivered entry moves out of its run into such a row.
 *
 * A run's delivery ids are its own id with the last four hex digits replaced by the entry's index
 * (shared/ids.ts `uuidv7Block`), so a delivery id names its run and its place in it: a lookup is
 * one primary-key read. A redelivered entry becomes `null` in `items` (the indexes stay put) and
 * `count` says how many entries are left.
 *
 * Why (npm run bench:events, 2,000 events/s to 10 endpoints): one row per delivery meant 20,000
 * inserts a second of 19 columns each, ~30 % of the product's main thread in its CPU profile; with
 * those rows skipped, the main thread went from 76–78 % to 39–47 % busy and the webhooks' p99 from
 * 86–428 ms to 45–63 ms. A run is one insert per endpoint page (tens a second).
 */
export const webhookDeliveryRuns: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('webhook_delivery_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      // Entries not redelivered since (not null in items).
      .addColumn('count', 'integer', (c) => c.notNull())
      // JSON array: [event id, event type, outbox sequence, status code, duration ms, attempt time (Unix ms), response excerpt | null] or null.
      .addColumn('items', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    // The log's order (newest first) and retention, per endpoint, like webhook_deliveries_list_idx.
    await sql`create index webhook_delivery_runs_list_idx on webhook_delivery_runs (webhook_id, created_at, id)`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('webhook_delivery_runs').ifExists().execute();
  },
};
