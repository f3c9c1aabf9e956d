import { randomBytes } from 'node:crypto';
import { openDatabase, type Store } from './database.js';
import { migrateToLatest } from './migrate.js';

/** A fresh in-memory database with every migration applied; for store tests only. */
export async function openTestStore(path = ':memory:'): Promise<Store> {
  const store = openDatabase(path);
  await migrateToLatest(store.db);
  return store;
}

/** A random AES-256 key, as the config would supply. */
export const testSecretKey = (): Buffer => randomBytes(32);
