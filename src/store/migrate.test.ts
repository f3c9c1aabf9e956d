import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { migrations } from './migrations/index.js';

describe('migrateToLatest', () => {
  it('applies a migration whose number was reserved while a later one already ran (branches land out of order)', async () => {
    const store = openDatabase(':memory:');
    try {
      // A database that ran main's 0008 before 0006 (ring groups) was merged.
      const { '0006_ring_groups': _later, ...without } = migrations;
      await migrateToLatest(store.db, without);
      const result = await migrateToLatest(store.db);
      expect(result.results?.map((r) => [r.migrationName, r.status])).toEqual([['0006_ring_groups', 'Success']]);
      expect(await store.db.selectFrom('ring_groups').selectAll().execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
