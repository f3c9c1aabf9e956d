import type { Kysely, Migration } from 'kysely';

/**
 * Login sessions and password-reset tokens (issue 3 §3). Tokens are stored only as SHA-256 hex:
 * they carry 192 random bits, so a fast hash is safe, and lookups stay one indexed equality.
 * Portable types only (text ids and ISO-8601 timestamps), like 0001.
 */
export const sessions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('access_token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('refresh_token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('access_expires_at', 'text', (c) => c.notNull())
      .addColumn('refresh_expires_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .execute();
    await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

    // Refresh tokens a session has rotated away from: presenting one again means it was copied, so
    // the session is revoked (refresh-token reuse detection, OAuth 2.0 Security BCP §4.14).
    await db.schema
      .createTable('session_retired_refresh_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('retired_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('session_retired_refresh_tokens_session_idx').on('session_retired_refresh_tokens').column('session_id').execute();

    await db.schema
      .createTable('password_reset_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('password_reset_tokens_user_idx').on('password_reset_tokens').column('user_id').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['password_reset_tokens', 'session_retired_refresh_tokens', 'sessions']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
