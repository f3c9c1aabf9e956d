import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import { SwitchboardError } from '../shared/errors.js';
import type { Database } from './database.js';
import { migrations } from './migrations/index.js';

/**
 * Brings the schema up to date; called once at start. Kysely records applied migrations in its
 * own table, so running it again is a no-op. A failure throws `MIGRATION_FAILED` naming the
 * migration, so boot stops with a message that says where.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  provided: Record<string, Migration> = migrations,
): Promise<MigrationResultSet> {
  // Numbers are reserved per branch (0006 ring groups, 0007…) and branches land in any order, so a
  // database that already ran 0008 must still accept 0006 when it arrives: Kysely refuses that
  // ("corrupted migrations") unless unordered migrations are allowed. The rule this asks for: a
  // migration may depend only on migrations numbered before it, never on a later one.
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(provided) }, allowUnorderedMigrations: true });
  const resultSet = await migrator.migrateToLatest();
  if (resultSet.error !== undefined) {
    const failed = resultSet.results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
    throw new SwitchboardError('MIGRATION_FAILED', `migration ${failed} failed`, { cause: resultSet.error });
  }
  return resultSet;
}
