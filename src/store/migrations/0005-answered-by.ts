import type { Kysely, Migration } from 'kysely';

/**
 * Who answered a call (issue 4 §4–5): a call to a ring group, or one forwarded, is answered by an
 * extension other than the one dialled. Kept on the live call (so it shows in the live-calls API)
 * and copied to the CDR, where the extension filter finds it too.
 */
export const answeredBy: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('calls').addColumn('answered_extension_id', 'text').execute();
    await db.schema.alterTable('cdrs').addColumn('answered_extension_id', 'text').execute();
    await db.schema.createIndex('cdrs_tenant_answered_ext_idx').on('cdrs').columns(['tenant_id', 'answered_extension_id']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('cdrs_tenant_answered_ext_idx').ifExists().execute();
    await db.schema.alterTable('cdrs').dropColumn('answered_extension_id').execute();
    await db.schema.alterTable('calls').dropColumn('answered_extension_id').execute();
  },
};
