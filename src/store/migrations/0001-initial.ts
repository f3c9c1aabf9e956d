import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/**
 * The control-plane schema of issue 3. Only Kysely's schema builder and portable types (text ids,
 * ISO timestamps as text, integers for booleans) so the same migration runs on PostgreSQL.
 */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('sip_domain', 'text', (c) => c.notNull().unique())
      .addColumn('realm', 'text', (c) => c.notNull())
      .addColumn('tenant_external_id', 'text', (c) => c.unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sites')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('store_id', 'text')
      .addColumn('address', 'text')
      .addColumn('timezone', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('sites_tenant_store_unique', ['tenant_id', 'store_id'])
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'admin', 'user')`))
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('users_tenant_email_unique', ['tenant_id', 'email'])
      .execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('key_hint', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('api_keys_tenant_idx').on('api_keys').columns(['tenant_id', 'created_at']).execute();

    await db.schema
      .createTable('extensions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('number', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('ha1_md5', 'text', (c) => c.notNull())
      .addColumn('ha1_sha256', 'text', (c) => c.notNull())
      .addColumn('sip_password_enc', 'text', (c) => c.notNull())
      .addColumn('caller_id_name', 'text')
      .addColumn('caller_id_number', 'text')
      .addColumn('codecs', 'text', (c) => c.notNull())
      .addColumn('voicemail_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('recording_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('forward', 'text', (c) => c.notNull())
      .addColumn('dnd', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_concurrent_calls', 'integer', (c) => c.notNull())
      .addColumn('site_id', 'text', (c) => c.references('sites.id').onDelete('set null'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'disabled')`))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('extensions_tenant_number_unique', ['tenant_id', 'number'])
      .execute();
    await db.schema.createIndex('extensions_site_idx').on('extensions').column('site_id').execute();

    await db.schema
      .createTable('registrations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('extension_id', 'text', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
      .addColumn('aor', 'text', (c) => c.notNull())
      .addColumn('contact_uri', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('user_agent', 'text')
      .addColumn('transport', 'text', (c) => c.notNull())
      .addColumn('source_address', 'text', (c) => c.notNull())
      .addColumn('source_port', 'integer', (c) => c.notNull())
      .addColumn('connection_id', 'text')
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('cseq', 'integer', (c) => c.notNull())
      .addColumn('instance_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('registrations_extension_contact_unique', ['extension_id', 'contact_uri'])
      .execute();
    await db.schema.createIndex('registrations_tenant_idx').on('registrations').columns(['tenant_id', 'aor']).execute();
    await db.schema.createIndex('registrations_expires_idx').on('registrations').column('expires_at').execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('set null'))
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('ip', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_tenant_idx').on('audit_log').columns(['tenant_id', 'created_at']).execute();

    await db.schema
      .createTable('idempotency_keys')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('response_body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['tenant_id', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['idempotency_keys', 'audit_log', 'registrations', 'extensions', 'api_keys', 'users', 'sites', 'tenants']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
