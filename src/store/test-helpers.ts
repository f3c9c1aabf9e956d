import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openDatabase, type Db, type Store } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createTenant } from './tenants/tenant.repository.js';

/** A fresh in-memory database with every migration applied; for store tests only. */
export async function openTestStore(path = ':memory:'): Promise<Store> {
  const store = openDatabase(path);
  await migrateToLatest(store.db);
  return store;
}

/** A random AES-256 key, as the config would supply. */
export const testSecretKey = (): Buffer => randomBytes(32);

/** A fresh migrated store with one tenant (Acme, acme.test): the usual starting point of a repository test. */
export async function openTestStoreWithTenant(): Promise<{ store: Store; tenantId: string }> {
  const store = await openTestStore();
  const tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test' })).id;
  return { store, tenantId };
}

/**
 * Every row of every table as one JSON text, for tests outside the store (which may not import
 * kysely) that assert a secret appears nowhere in the database.
 */
export async function dumpAllTables(db: Db): Promise<string> {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
  const dump: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    dump.push(`${name}: ${JSON.stringify(rows.rows)}`);
  }
  return dump.join('\n');
}
