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
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(provided) } });
  const resultSet = await migrator.migrateToLatest();
  if (resultSet.error !== undefined) {
    const failed = resultSet.results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
    throw new SwitchboardError('MIGRATION_FAILED', `migration ${failed} failed`, { cause: resultSet.error });
  }
  return resultSet;
}
