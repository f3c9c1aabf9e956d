import type { Kysely, Migration } from 'kysely';

/**
 * External user mappings (a CRM's user id ↔ a Switchboard user and/or extension) and the API
 * request log (issue 3 §4 and §7). Schema builder and portable types only, like 0001.
 */
export const mappingsAndRequestLog: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('external_user_mappings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      // Which outside system the id belongs to ('crm', 'helpdesk'…), so two systems' ids never collide.
      .addColumn('external_system', 'text', (c) => c.notNull().defaultTo('default'))
      .addColumn('external_user_id', 'text', (c) => c.notNull())
      // A deleted user leaves the mapping (it may still point at an extension); a deleted
      // extension takes its mappings along, as a mapping to nothing dials nowhere.
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
      .addColumn('extension_id', 'text', (c) => c.references('extensions.id').onDelete('cascade'))
      .addColumn('display_name', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('external_user_mappings_unique', ['tenant_id', 'external_system', 'external_user_id'])
      .execute();
    await db.schema.createIndex('external_user_mappings_extension_idx').on('external_user_mappings').columns(['tenant_id', 'extension_id']).execute();
    await db.schema.createIndex('external_user_mappings_user_idx').on('external_user_mappings').column('user_id').execute();

    // No foreign keys: the log is history that must outlive what it mentions, and every insert
    // would pay for the lookups. Retention (days and a row cap) keeps it bounded.
    await db.schema
      .createTable('api_request_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text')
      .addColumn('principal_id', 'text')
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('route', 'text')
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('duration_ms', 'real', (c) => c.notNull())
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('error_code', 'text')
      .addColumn('time', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('api_request_log_tenant_time_idx').on('api_request_log').columns(['tenant_id', 'time']).execute();
    await db.schema.createIndex('api_request_log_time_idx').on('api_request_log').column('time').execute();
    await db.schema.createIndex('api_request_log_request_idx').on('api_request_log').column('request_id').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('api_request_log').ifExists().execute();
    await db.schema.dropTable('external_user_mappings').ifExists().execute();
  },
};
