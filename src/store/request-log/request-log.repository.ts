import type { EventEnvelope } from '../../events/envelope.js';
import { uuid } from '../../shared/ids.js';
import { inTransaction, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import { appendOutboxEvents } from '../outbox/outbox.repository.js';
import type { RequestLogTable } from './request-log.table.js';

/** One request as recorded (same snake_case shape as the API's `RequestLogEntry`). */
export interface RequestLogRecord {
  request_id: string;
  time: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  tenant_id?: string | undefined;
  principal_id?: string | undefined;
  route?: string | undefined;
  ip?: string | undefined;
  user_agent?: string | undefined;
  error_code?: string | undefined;
}

/** A stored line of the log. */
export type RequestLogRow = RequestLogTable;

/** An API key anywhere in a path (some clients put it there by mistake) is cut to its prefix. */
const KEY_IN_PATH = /sk_live_[0-9A-Za-z]+/g;

/**
 * The path as it may be stored: no query string (where `?api_key=`, tokens and passwords travel),
 * no key-shaped segment, bounded length. The writer applies this to every record, whatever the
 * caller already did, so one sloppy caller cannot put a secret in the database.
 */
export function redactLoggedPath(path: string): string {
  const q = path.search(/[?#]/);
  const bare = q === -1 ? path : path.slice(0, q);
  return bare.replace(KEY_IN_PATH, 'sk_live_[redacted]').slice(0, 2048);
}

function toRow(r: RequestLogRecord): RequestLogTable {
  return {
    id: uuid(),
    request_id: r.request_id.slice(0, 128),
    tenant_id: r.tenant_id ?? null,
    principal_id: r.principal_id ?? null,
    method: r.method.slice(0, 16),
    path: redactLoggedPath(r.path),
    route: r.route ?? null,
    status: r.status,
    duration_ms: r.duration_ms,
    ip: r.ip ?? null,
    user_agent: r.user_agent?.slice(0, 512) ?? null,
    error_code: r.error_code?.slice(0, 64) ?? null,
    time: r.time,
  };
}

/** Rows per INSERT: 13 columns × 200 stays far below every driver's bound-parameter limit. */
const INSERT_CHUNK = 200;

/**
 * The events a batch of log lines causes (api.error for failed requests), made from the lines as
 * stored (path redacted), given the open transaction for any lookup it needs.
 */
export type RequestLogEvents = (records: readonly RequestLogRecord[], trx: Db) => readonly EventEnvelope[] | Promise<readonly EventEnvelope[]>;

/**
 * Writes records in one transaction (one fsync for the whole batch, which is the point of batching),
 * with the outbox events `events` makes of them in the same transaction (issue 5 §2): an api.error
 * exists exactly when its log line does. Returns how many events were written.
 */
export async function insertRequestLog(db: Db, records: readonly RequestLogRecord[], events?: RequestLogEvents): Promise<number> {
  if (records.length === 0) return 0;
  const rows = records.map(toRow);
  return inTransaction(db, async (trx) => {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx.insertInto('api_request_log').values(rows.slice(i, i + INSERT_CHUNK)).execute();
    }
    if (!events) return 0;
    return (await appendOutboxEvents(trx, await events(records.map((r) => ({ ...r, path: redactLoggedPath(r.path) })), trx))).length;
  });
}

/**
 * Retention: deletes rows older than `before`, then all but the newest `maxRows`. Returns how
 * many rows went. Both deletes use the `time` index.
 */
export async function pruneRequestLog(db: Db, opts: { before: string; maxRows: number }): Promise<number> {
  const old = await db.deleteFrom('api_request_log').where('time', '<', opts.before).executeTakeFirst();
  let removed = Number(old.numDeletedRows);
  const boundary = await db.selectFrom('api_request_log').select('time').orderBy('time', 'desc').limit(1).offset(Math.max(0, Math.trunc(opts.maxRows))).executeTakeFirst();
  if (boundary) {
    const extra = await db.deleteFrom('api_request_log').where('time', '<=', boundary.time).executeTakeFirst();
    removed += Number(extra.numDeletedRows);
  }
  return removed;
}

/** Filters of {@link listRequestLog}; `from` inclusive, `to` exclusive (ISO instants). */
export interface RequestLogFilter extends PageRequest {
  method?: string;
  status?: number;
  /** 2 for 2xx, 4 for 4xx… */
  statusClass?: number;
  pathPrefix?: string;
  requestId?: string;
  from?: string;
  to?: string;
}

function filtered(db: Db, tenantId: string, f: RequestLogFilter) {
  let q = db.selectFrom('api_request_log').where('tenant_id', '=', tenantId);
  if (f.method !== undefined) q = q.where('method', '=', f.method);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.statusClass !== undefined) q = q.where('status', '>=', f.statusClass * 100).where('status', '<', f.statusClass * 100 + 100);
  // substr rather than LIKE: no wildcard escaping, same meaning on SQLite and PostgreSQL.
  if (f.pathPrefix !== undefined) {
    const prefix = f.pathPrefix;
    q = q.where((eb) => eb(eb.fn<string>('substr', ['path', eb.lit(1), eb.lit(prefix.length)]), '=', prefix));
  }
  if (f.requestId !== undefined) q = q.where('request_id', '=', f.requestId);
  if (f.from !== undefined) q = q.where('time', '>=', f.from);
  if (f.to !== undefined) q = q.where('time', '<', f.to);
  return q;
}

/** A page of a tenant's log, newest first. */
export async function listRequestLog(db: Db, tenantId: string, filter: RequestLogFilter = {}): Promise<Page<RequestLogRow>> {
  const { limit, offset } = pageBounds(filter);
  const q = filtered(db, tenantId, filter);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('time', 'desc').orderBy('id').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows, total: Number(count.n) };
}

/** Aggregates of {@link requestLogStats}. */
export interface RequestLogStats {
  total: number;
  byStatusClass: Record<string, number>;
  /** Share of requests answered ≥ 400, and ≥ 500 (0 when there were none). */
  errorRate: number;
  serverErrorRate: number;
  duration: { avg: number | null; p50: number | null; p95: number | null; p99: number | null };
  byRoute: Array<{ method: string; route: string | null; count: number; errors: number; avgDurationMs: number }>;
}

/** Statistics of a tenant's requests in [from, to): counts, error rates, latency percentiles, busiest routes. */
export async function requestLogStats(db: Db, tenantId: string, window: { from: string; to: string }, topRoutes = 50): Promise<RequestLogStats> {
  const q = filtered(db, tenantId, window);
  const [classes, avg, routes] = await Promise.all([
    q
      // A literal divisor: a bound 100 arrives as a float, and 404 / 100.0 would not group with 400.
      .select((eb) => [eb('status', '/', eb.lit(100)).as('cls'), eb.fn.countAll<number>().as('n')])
      .groupBy('cls')
      .execute(),
    q.select((eb) => eb.fn.avg<number>('duration_ms').as('avg')).executeTakeFirst(),
    q
      .select((eb) => [
        'method',
        'route',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>(eb.case().when('status', '>=', 400).then(1).else(0).end()).as('errors'),
        eb.fn.avg<number>('duration_ms').as('avg'),
      ])
      .groupBy(['method', 'route'])
      .orderBy('n', 'desc')
      .limit(topRoutes)
      .execute(),
  ]);
  const byStatusClass: Record<string, number> = {};
  let total = 0;
  let errors = 0;
  let serverErrors = 0;
  for (const c of classes) {
    const cls = Math.trunc(Number(c.cls));
    const n = Number(c.n);
    byStatusClass[`${cls}xx`] = (byStatusClass[`${cls}xx`] ?? 0) + n;
    total += n;
    if (cls >= 4) errors += n;
    if (cls >= 5) serverErrors += n;
  }
  // Nearest-rank percentiles, one indexed ORDER BY … OFFSET each: portable, no window functions.
  const percentile = async (p: number): Promise<number | null> => {
    if (total === 0) return null;
    const row = await q.select('duration_ms').orderBy('duration_ms').limit(1).offset(Math.max(0, Math.ceil(p * total) - 1)).executeTakeFirst();
    return row ? Number(row.duration_ms) : null;
  };
  const [p50, p95, p99] = await Promise.all([percentile(0.5), percentile(0.95), percentile(0.99)]);
  return {
    total,
    byStatusClass,
    errorRate: total === 0 ? 0 : errors / total,
    serverErrorRate: total === 0 ? 0 : serverErrors / total,
    duration: { avg: avg?.avg == null ? null : Number(avg.avg), p50, p95, p99 },
    byRoute: routes.map((r) => ({ method: r.method, route: r.route, count: Number(r.n), errors: Number(r.errors ?? 0), avgDurationMs: Number(r.avg) })),
  };
}
