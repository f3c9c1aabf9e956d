import type { Kysely, Migration } from 'kysely';

/**
 * Webhook endpoints and their delivery log (issue 5 §3). The breaker columns are written by the
 * dispatcher (10 consecutive failures → open, paused 5 minutes, then one probe in half-open) and
 * only read by the API. A delivery row is one event to one endpoint, unique per pair, so the
 * dispatcher can enqueue an event twice (after a crash) without delivering it twice over.
 */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      // JSON array of event types and wildcards (`call.*`).
      .addColumn('events', 'text', (c) => c.notNull())
      // AES-256-GCM ciphertext of the signing secret, the row id as AAD (like extensions' SIP passwords).
      .addColumn('secret_enc', 'text', (c) => c.notNull())
      // JSON object of custom header name → value.
      .addColumn('headers', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('retry_count', 'integer', (c) => c.notNull().defaultTo(3))
      .addColumn('timeout_ms', 'integer', (c) => c.notNull().defaultTo(5000))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('breaker_state', 'text', (c) => c.notNull().defaultTo('closed'))
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('paused_until', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhooks_tenant_idx').on('webhooks').columns(['tenant_id', 'created_at']).execute();

    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      // At most 1 KB of the receiver's last answer.
      .addColumn('response_excerpt', 'text')
      .addColumn('last_duration_ms', 'integer')
      .addColumn('first_attempt_at', 'text')
      .addColumn('last_attempt_at', 'text')
      .addColumn('delivered_at', 'text')
      .addColumn('next_attempt_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_deliveries_event_uq').on('webhook_deliveries').columns(['webhook_id', 'event_id']).unique().execute();
    await db.schema.createIndex('webhook_deliveries_list_idx').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
    // What the dispatcher scans: pending deliveries whose next attempt is due.
    await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('webhook_deliveries').ifExists().execute();
    await db.schema.dropTable('webhooks').ifExists().execute();
  },
};
