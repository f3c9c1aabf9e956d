import type { Kysely, Migration } from 'kysely';

/**
 * Where a transferred call went (issue 4 §5): a blind or attended transfer ends the original
 * call (COMPLETED, NORMAL_CLEARING — it was a real conversation) and the transferee talks on a new
 * call with its own CDR. The original's row names that new call, so reports can follow a caller
 * across transfers instead of seeing two unrelated records.
 */
export const transfers: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('calls').addColumn('transferred_to_call_id', 'text').execute();
    await db.schema.alterTable('cdrs').addColumn('transferred_to_call_id', 'text').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('cdrs').dropColumn('transferred_to_call_id').execute();
    await db.schema.alterTable('calls').dropColumn('transferred_to_call_id').execute();
  },
};
