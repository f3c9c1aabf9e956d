import type { Kysely, Migration } from 'kysely';

/**
 * Calls and their records (issue 4 §2 and §6). `calls` holds one row per call from the INVITE on,
 * so a crash leaves evidence behind: rows without `ended_at` are closed at the next start with
 * disposition `interrupted` (by `instance_id`, so one instance never closes another's calls on a
 * shared database). `cdrs` is written in the same transaction as the call's final state.
 *
 * No foreign keys to extensions or sites: a CDR is history that must outlive the extension it
 * mentions; only the tenant (whose deletion deletes everything of it) cascades.
 */
export const callsAndCdrs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('calls')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('caller_number', 'text', (c) => c.notNull())
      .addColumn('caller_name', 'text')
      .addColumn('callee_number', 'text', (c) => c.notNull())
      .addColumn('callee_name', 'text')
      .addColumn('caller_extension_id', 'text')
      .addColumn('callee_extension_id', 'text')
      .addColumn('site_id', 'text')
      .addColumn('sip_call_id', 'text')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('answered_at', 'text')
      .addColumn('ended_at', 'text')
      .addColumn('hangup_cause', 'text')
      .addColumn('sip_status', 'integer')
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .execute();
    // Open calls of an instance: what crash recovery scans at start.
    await db.schema.createIndex('calls_open_idx').on('calls').columns(['instance_id', 'ended_at']).execute();
    await db.schema.createIndex('calls_tenant_started_idx').on('calls').columns(['tenant_id', 'started_at']).execute();

    await db.schema
      .createTable('cdrs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      // The call this record closes; unique, because a call ends once.
      .addColumn('call_id', 'text', (c) => c.notNull().unique())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('caller_number', 'text', (c) => c.notNull())
      .addColumn('caller_name', 'text')
      .addColumn('callee_number', 'text', (c) => c.notNull())
      .addColumn('callee_name', 'text')
      .addColumn('caller_extension_id', 'text')
      .addColumn('callee_extension_id', 'text')
      .addColumn('site_id', 'text')
      .addColumn('sip_call_id', 'text')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('answered_at', 'text')
      .addColumn('ended_at', 'text', (c) => c.notNull())
      .addColumn('duration_seconds', 'integer', (c) => c.notNull())
      .addColumn('billable_seconds', 'integer', (c) => c.notNull())
      .addColumn('hangup_cause', 'text', (c) => c.notNull())
      .addColumn('sip_status', 'integer')
      .addColumn('disposition', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('cdrs_tenant_started_idx').on('cdrs').columns(['tenant_id', 'started_at']).execute();
    await db.schema.createIndex('cdrs_tenant_caller_ext_idx').on('cdrs').columns(['tenant_id', 'caller_extension_id']).execute();
    await db.schema.createIndex('cdrs_tenant_callee_ext_idx').on('cdrs').columns(['tenant_id', 'callee_extension_id']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('cdrs').ifExists().execute();
    await db.schema.dropTable('calls').ifExists().execute();
  },
};
