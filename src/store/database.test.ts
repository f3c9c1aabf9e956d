import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase, withStatementCache } from './database.js';
import { migrateToLatest } from './migrate.js';
import { migrations } from './migrations/index.js';

describe('database and migrations', () => {
  it('migrates a fresh database, then is a no-op', async () => {
    const store = openDatabase(':memory:');
    const first = await migrateToLatest(store.db);
    // Every migration, in order (derived from the list so adding one does not edit this test).
    expect(first.results?.map((r) => [r.migrationName, r.status])).toEqual(Object.keys(migrations).sort().map((name) => [name, 'Success']));
    const second = await migrateToLatest(store.db);
    expect(second.results).toEqual([]);
    const tables = await store.db.introspection.getTables();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['api_keys', 'audit_log', 'extensions', 'idempotency_keys', 'registrations', 'sites', 'tenants', 'users', 'external_user_mappings', 'api_request_log',
        'password_reset_tokens', 'session_retired_refresh_tokens', 'sessions']),
    );
    await store.close();
  });

  it('turns on foreign keys and full sync', async () => {
    const store = openDatabase(':memory:');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    expect(fk.rows[0]?.foreign_keys).toBe(1);
    expect(sync.rows[0]?.synchronous).toBe(2);
    await store.close();
  });

  it('names the failing migration', async () => {
    const store = openDatabase(':memory:');
    const broken = {
      '0001_broken': {
        up: async () => {
          throw new Error('boom');
        },
      },
    };
    await expect(migrateToLatest(store.db, broken)).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: 'migration 0001_broken failed',
    });
    await store.close();
  });

  it('reuses prepared statements by SQL text, but not one that is still iterating', () => {
    const raw = new BetterSqlite3(':memory:');
    const db = withStatementCache(raw, 2);
    const a = db.prepare('select 1 as n');
    expect(db.prepare('select 1 as n')).toBe(a);
    const it = a.iterate([]);
    it.next();
    const b = db.prepare('select 1 as n');
    expect(b).not.toBe(a);
    expect(b.all([])).toEqual([{ n: 1 }]);
    it.return?.();
    db.prepare('select 2');
    db.prepare('select 3');
    expect(db.prepare('select 1 as n')).not.toBe(a); // evicted (size 2)
    db.close();
  });
});
