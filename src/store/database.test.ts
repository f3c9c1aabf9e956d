import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { cachingStatements, inTransaction, openDatabase } from './database.js';
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

  it('commits a process-crash transaction without the fsync (synchronous=NORMAL) and restores FULL for everyone else', async () => {
    const store = openDatabase(':memory:');
    await migrateToLatest(store.db);
    const syncOf = async (db: typeof store.db) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous;
    let inside: number | undefined;
    let outside: number | undefined;
    await Promise.all([
      inTransaction(store.db, async (trx) => {
        inside = (await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]?.synchronous;
        await trx.insertInto('tenants').values({ id: 't1', name: 'T', sip_domain: 't.test', realm: 't.test', tenant_external_id: null, created_at: 'x', updated_at: 'x' }).execute();
      }, 'process-crash'),
      // Queued behind the held connection: it must never see the relaxed setting.
      syncOf(store.db).then((v) => (outside = v)),
    ]);
    expect(inside).toBe(1);
    expect(outside).toBe(2);
    expect(await syncOf(store.db)).toBe(2);
    expect(await store.db.selectFrom('tenants').select('id').where('id', '=', 't1').executeTakeFirst()).toEqual({ id: 't1' });
    // A failing one rolls back and still restores FULL.
    await expect(inTransaction(store.db, async (trx) => {
      await trx.deleteFrom('tenants').execute();
      throw new Error('boom');
    }, 'process-crash')).rejects.toThrow('boom');
    expect(await syncOf(store.db)).toBe(2);
    expect(await store.db.selectFrom('tenants').select('id').execute()).toHaveLength(1);
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

describe('prepared-statement cache', () => {
  it('prepares each SQL text once and keeps the most recently used', () => {
    const sqlite = new BetterSqlite3(':memory:');
    const prepare = vi.spyOn(sqlite, 'prepare');
    const cached = cachingStatements(sqlite, 2);
    const a = cached.prepare('select 1 as n');
    expect(cached.prepare('select 1 as n')).toBe(a);
    const b = cached.prepare('select 2 as n');
    expect(cached.prepare('select 1 as n')).toBe(a); // a is now the most recent, b the oldest
    cached.prepare('select 3 as n'); // evicts b
    expect(cached.prepare('select 1 as n')).toBe(a);
    expect(cached.prepare('select 2 as n')).not.toBe(b);
    expect(prepare).toHaveBeenCalledTimes(4);
    cached.close();
  });

  it('binds fresh parameters each time, for reads and writes', () => {
    const sqlite = new BetterSqlite3(':memory:');
    const cached = cachingStatements(sqlite);
    cached.prepare('create table t (n integer)').run([]);
    const insert = cached.prepare('insert into t (n) values (?)');
    expect(insert.reader).toBe(false);
    expect(insert.run([1]).changes).toBe(1);
    expect(cached.prepare('insert into t (n) values (?)').run([2]).changes).toBe(1);
    const select = cached.prepare('select n from t where n >= ? order by n');
    expect(select.reader).toBe(true);
    expect(select.all([1])).toEqual([{ n: 1 }, { n: 2 }]);
    expect(cached.prepare('select n from t where n >= ? order by n').all([2])).toEqual([{ n: 2 }]);
    cached.close();
  });

  it('never hands out a statement an open iterator is using', () => {
    const sqlite = new BetterSqlite3(':memory:');
    const cached = cachingStatements(sqlite);
    const text = 'select value as n from json_each(?)';
    const first = cached.prepare(text);
    const iter = first.iterate(['[1,2,3]'])[Symbol.iterator]();
    expect(iter.next().value).toEqual({ n: 1 });
    const second = cached.prepare(text);
    expect(second).not.toBe(first);
    expect(second.all(['[7]'])).toEqual([{ n: 7 }]);
    expect([...{ [Symbol.iterator]: () => iter }]).toEqual([{ n: 2 }, { n: 3 }]);
    cached.close();
  });

  it('gives a statement back after a Kysely stream ends or is left early', async () => {
    // Kysely holds the connection for the whole stream, so through Kysely a statement is never in
    // two iterations at once; these check that a finished or abandoned stream leaves it reusable.
    const db = new Kysely<{ t: { n: number } }>({ dialect: new SqliteDialect({ database: cachingStatements(new BetterSqlite3(':memory:')) }) });
    await db.schema.createTable('t').addColumn('n', 'integer').execute();
    await db.insertInto('t').values([{ n: 1 }, { n: 2 }, { n: 3 }]).execute();
    const query = () => db.selectFrom('t').select('n').orderBy('n');
    for await (const row of query().stream()) {
      expect(row.n).toBe(1);
      break;
    }
    const seen: number[] = [];
    for await (const row of query().stream()) seen.push(row.n);
    expect(seen).toEqual([1, 2, 3]);
    expect(await query().execute()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await db.destroy();
  });
});
