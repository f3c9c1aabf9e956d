import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

describe('database and migrations', () => {
  it('migrates a fresh database, then is a no-op', async () => {
    const store = openDatabase(':memory:');
    const first = await migrateToLatest(store.db);
    // Every migration in order, each applied once (other issues append theirs to the list).
    expect(first.results?.map((r) => [r.migrationName, r.status]).slice(0, 2)).toEqual([
      ['0001_initial', 'Success'],
      ['0002_sessions', 'Success'],
    ]);
    expect(first.results?.every((r) => r.status === 'Success')).toBe(true);
    const second = await migrateToLatest(store.db);
    expect(second.results).toEqual([]);
    const tables = await store.db.introspection.getTables();
    expect(tables.map((t) => t.name).sort()).toEqual(
      expect.arrayContaining([
        'api_keys', 'audit_log', 'extensions', 'idempotency_keys', 'password_reset_tokens', 'registrations',
        'session_retired_refresh_tokens', 'sessions', 'sites', 'tenants', 'users',
      ]),
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
});
