import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql as rawSql, type SqliteDatabase, type SqliteStatement, type Transaction } from 'kysely';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, WalCheckpointer } from './wal-checkpointer.js';
import type { TenantTable } from './tenants/tenant.table.js';
import type { SiteTable } from './sites/site.table.js';
import type { UserTable } from './users/user.table.js';
import type { ApiKeyTable } from './api-keys/api-key.table.js';
import type { ExtensionTable } from './extensions/extension.table.js';
import type { RegistrationTable } from './registrations/registration.table.js';
import type { AuditLogTable } from './audit/audit.table.js';
import type { IdempotencyKeyTable } from './idempotency/idempotency-key.table.js';
import type { PasswordResetTokenTable, RetiredRefreshTokenTable, SessionTable } from './sessions/session.table.js';
import type { UserMappingTable } from './user-mappings/user-mapping.table.js';
import type { RequestLogTable } from './request-log/request-log.table.js';
import type { CallTable, CdrTable } from './calls/call.table.js';
import type { RingGroupMemberTable, RingGroupTable } from './ring-groups/ring-group.table.js';
import type { WebhookCursorTable, WebhookDeliveryRunTable, WebhookDeliveryTable, WebhookTable } from './webhooks/webhook.table.js';
import type { OutboxEventTable } from './outbox/outbox.table.js';

/** Every table the store knows, keyed by table name; Kysely checks queries against it. */
export interface Database {
  tenants: TenantTable;
  sites: SiteTable;
  users: UserTable;
  api_keys: ApiKeyTable;
  extensions: ExtensionTable;
  registrations: RegistrationTable;
  audit_log: AuditLogTable;
  idempotency_keys: IdempotencyKeyTable;
  sessions: SessionTable;
  session_retired_refresh_tokens: RetiredRefreshTokenTable;
  password_reset_tokens: PasswordResetTokenTable;
  external_user_mappings: UserMappingTable;
  api_request_log: RequestLogTable;
  calls: CallTable;
  cdrs: CdrTable;
  ring_groups: RingGroupTable;
  ring_group_members: RingGroupMemberTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_delivery_runs: WebhookDeliveryRunTable;
  webhook_cursors: WebhookCursorTable;
  outbox_events: OutboxEventTable;
}

/**
 * What repository functions accept: the database or an open transaction, so that callers (API
 * handlers, the registrar) can compose several repository calls into one atomic unit.
 */
export type Db = Kysely<Database> | Transaction<Database>;

/** An open store: the typed query builder and the way to close the underlying file. */
export interface Store {
  readonly db: Kysely<Database>;
  /**
   * A counter that moves on every write of this store's connection, cheap enough to read per
   * request (the API's read cache compares it; see src/api/read-cache.ts). SQLite: `total_changes()`,
   * the rows inserted, updated or deleted through this connection since it opened (including
   * trigger and foreign-key cascade changes, committed or not), read through one prepared statement
   * (~1 µs). Writes by other processes on the same file do not move it. A PostgreSQL dialect has no
   * per-connection equivalent across a pool; it would keep a counter bumped by a statement-level
   * trigger (or `pg_stat_database.xact_commit` / LISTEN-NOTIFY) and read that instead.
   */
  changeCounter(): number;
  close(): Promise<void>;
}

/**
 * Opens the SQLite database at `path` (or `':memory:'`). This is the dialect layer: the only place
 * SQLite-specific settings live, so a PostgreSQL dialect can replace it later.
 * - WAL lets API reads run while the registrar writes.
 * - `synchronous=FULL` because call records must survive a power cut (issue 3, Store).
 * - `foreign_keys=ON` because SQLite leaves them off by default, and cascades depend on them.
 * - `busy_timeout` so a second process (CLI, backup) waits instead of failing at once.
 */
export function openDatabase(path: string, options: { busyTimeoutMs?: number; onCheckpointError?: (message: string) => void } = {}): Store {
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  // A file's WAL is checkpointed by a thread of its own (see wal-checkpointer.ts); an in-memory database has none.
  const checkpointer = sqlite.memory ? undefined : new WalCheckpointer(path, { ...(options.onCheckpointError && { onError: options.onCheckpointError }) });
  if (checkpointer) sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  const totalChanges = sqlite.prepare('select total_changes()').pluck();
  return {
    db,
    changeCounter: () => totalChanges.get() as number,
    // Kysely's destroy closes the better-sqlite3 handle through the dialect driver; closed last, it checkpoints what is left.
    close: async () => {
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

/** How many prepared statements {@link cachingStatements} keeps by default (the app has well under 200 distinct SQL texts). */
export const STATEMENT_CACHE_SIZE = 200;

/** The subset of a better-sqlite3 statement the cache needs besides Kysely's `SqliteStatement`. */
interface BetterStatement extends SqliteStatement {
  readonly busy: boolean;
}

/**
 * better-sqlite3 under Kysely's `SqliteDialect`, with a bounded LRU of prepared statements keyed by
 * SQL text. Kysely's driver calls `db.prepare(sql)` for every query, and compiling the SQL again was
 * ~10% of the CPU of a list request. A cached statement is safe to hand out again because the
 * driver only ever uses it through `reader`, `all(params)`, `run(params)` and `iterate(params)`: each
 * call binds its own parameters and resets the statement when done, and the driver never changes a
 * statement's mode (`pluck`, `raw`, `expand`, `safeIntegers`). The one state that outlives a call is
 * an open `iterate()` (Kysely's `stream()`): such a statement is `busy`, and better-sqlite3 refuses
 * to run it again, so a busy entry is replaced by a freshly prepared statement and the iterator keeps
 * the old one. Statements are finalized with the connection; a schema change makes SQLite recompile
 * a statement on its next step (sqlite3_prepare_v2), so migrations need no invalidation.
 */
export function cachingStatements(sqlite: BetterSqlite3.Database, max = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, BetterStatement>();
  const prepareFresh = (sql: string): BetterStatement => {
    const stmt = sqlite.prepare(sql) as unknown as BetterStatement;
    cache.delete(sql);
    cache.set(sql, stmt);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return stmt;
  };
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached === undefined || cached.busy) return prepareFresh(sql);
      // Most recently used goes last, so the first key is the one to evict.
      cache.delete(sql);
      cache.set(sql, cached);
      return cached;
    },
  };
}

/**
 * What a commit must survive. `power-loss` (the default): the commit is on disk before it returns
 * (SQLite `synchronous=FULL`: the WAL is fsynced). `process-crash`: it survives `kill -9` of this
 * process but may roll back if the machine loses power (`synchronous=NORMAL` in WAL mode, SQLite's
 * documented guarantee; reliability-anchors §4) — for the hot, short-lived states of a live call
 * (started, ringing, answered), where an fsync each would cost more than the call's own signalling.
 * A call's end and its CDR always commit with `power-loss`.
 */
export type Durability = 'power-loss' | 'process-crash';

/**
 * Runs `fn` in a transaction, joining the caller's one if `db` already is a transaction, so that a
 * repository write of several statements is atomic whether or not the caller composed it. A joined
 * transaction keeps the durability of the one it joins.
 */
export async function inTransaction<T>(db: Db, fn: (trx: Transaction<Database>) => Promise<T>, durability: Durability = 'power-loss'): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<Database>);
  if (durability === 'power-loss') return (db as Kysely<Database>).transaction().execute(fn);
  // The connection is held for the whole exchange, so no other query runs between the pragmas
  // and none of them commits with the relaxed setting.
  return (db as Kysely<Database>).connection().execute(async (conn) => {
    await rawSql`pragma synchronous = NORMAL`.execute(conn);
    try {
      return await conn.transaction().execute(fn);
    } finally {
      await rawSql`pragma synchronous = FULL`.execute(conn);
    }
  });
}

/** Current time as the ISO-8601 text every timestamp column holds (portable across SQLite and PostgreSQL). */
export const nowIso = (): string => new Date().toISOString();

/** Booleans are stored as 0/1 integers, which both SQLite and PostgreSQL (as smallint) hold. */
export const toDbBool = (value: boolean): number => (value ? 1 : 0);

/** The inverse of {@link toDbBool}. */
export const fromDbBool = (value: number): boolean => value !== 0;

/** A page of rows plus the total matching the filters, which the API turns into `pagination`. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** Limit/offset as the API passes them; the store clamps them to sane bounds. */
export interface PageRequest {
  limit?: number;
  offset?: number;
}

/** A list's sort order as the API parsed it (`-field` → desc); repositories whitelist the fields. */
export interface SortRequest<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

/** Clamps paging input: limit 1..500 (default 50), offset ≥ 0. */
export function pageBounds(page: PageRequest = {}): { limit: number; offset: number } {
  const limit = Math.min(500, Math.max(1, Math.trunc(page.limit ?? 50)));
  const offset = Math.max(0, Math.trunc(page.offset ?? 0));
  return { limit, offset };
}

/** A trivial round trip to the database, for readiness checks. */
export async function pingDatabase(db: Db): Promise<void> {
  await rawSql`select 1`.execute(db);
}
