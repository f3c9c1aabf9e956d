import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('WAL checkpoints on their own thread', () => {
  it('copies the WAL into the database file without the writer checkpointing, and the store reopens with every row', async () => {
    const path = join(dir, 'switchboard.db');
    const store = openDatabase(path);
    await sql`create table t (id integer primary key, payload text)`.execute(store.db);
    // ~8 MB through the WAL: twice the thread's threshold, far below the writer's own backstop (64 MB).
    const payload = 'x'.repeat(4000);
    for (let i = 0; i < 2000; i++) await sql`insert into t (payload) values (${payload})`.execute(store.db);
    const fileSize = () => statSync(path).size;
    await until(() => fileSize() > 4 * 1024 * 1024);
    await store.close();

    const again = openDatabase(path);
    const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(again.db);
    expect(rows[0]!.n).toBe(2000);
    await again.close();
  });

  it('an in-memory database has no checkpoint thread and closes at once', async () => {
    const store = openDatabase(':memory:');
    await sql`select 1`.execute(store.db);
    await store.close();
  });
});
