import { randomBytes } from 'node:crypto';
import { openDatabase, type Store } from './database.js';
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
