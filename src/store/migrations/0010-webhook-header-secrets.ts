import type { Kysely, Migration } from 'kysely';

/**
 * Custom webhook header values are secrets (receivers put auth tokens in them): from here on they
 * are stored in `headers_enc`, a JSON object of header name → AES-256-GCM ciphertext (AAD
 * `webhook-header:<webhook id>:<lower-case name>`), like the signing secret in `secret_enc`.
 *
 * A migration gets only the database, not the secret key (it lives in the data directory or the
 * environment, see config/secret-key.ts), so it cannot encrypt the values already in `headers`.
 * Those stay where they are until `upgradeWebhookHeaders(db, secretKey)` moves them — main.ts calls
 * it right after migrating, before anything reads webhooks; until then reads fall back to them.
 * Every write of a webhook's headers empties the plain column.
 */
export const webhookHeaderSecrets: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('webhooks').addColumn('headers_enc', 'text', (c) => c.notNull().defaultTo('{}')).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    // Values in headers_enc cannot be decrypted here: they are lost, like the headers themselves would be.
    await db.schema.alterTable('webhooks').dropColumn('headers_enc').execute();
  },
};
