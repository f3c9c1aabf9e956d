import { sql } from 'kysely';
import { pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import type { CallDirection, CdrDisposition, CdrTable } from './call.table.js';

/** Filters of `/api/v1/cdrs` and its stats (issue 4 §6); all optional, combined with AND. */
export interface CdrFilter {
  /** ISO-8601, inclusive: calls started at or after. */
  from?: string;
  /** ISO-8601, exclusive: calls started before. */
  to?: string;
  direction?: CallDirection;
  /** Either party's extension, or the one that answered: a call between two extensions shows in both extensions' lists. */
  extensionId?: string;
  siteId?: string;
  disposition?: CdrDisposition;
}

function filtered(db: Db, tenantId: string, f: CdrFilter) {
  let q = db.selectFrom('cdrs').where('tenant_id', '=', tenantId);
  if (f.from !== undefined) q = q.where('started_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('started_at', '<', f.to);
  if (f.direction !== undefined) q = q.where('direction', '=', f.direction);
  if (f.siteId !== undefined) q = q.where('site_id', '=', f.siteId);
  if (f.disposition !== undefined) q = q.where('disposition', '=', f.disposition);
  const ext = f.extensionId;
  if (ext !== undefined) q = q.where((eb) => eb.or([eb('caller_extension_id', '=', ext), eb('callee_extension_id', '=', ext), eb('answered_extension_id', '=', ext)]));
  return q;
}

/** Newest first, with the total matching the filters. */
export async function listCdrs(db: Db, tenantId: string, filter: CdrFilter = {}, page: PageRequest = {}): Promise<Page<CdrTable>> {
  const { limit, offset } = pageBounds(page);
  const items = await filtered(db, tenantId, filter).selectAll().orderBy('started_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
  const { total } = await filtered(db, tenantId, filter).select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  return { items, total: Number(total) };
}

/** One record; undefined when it is not the tenant's. */
export async function getCdr(db: Db, tenantId: string, cdrId: string): Promise<CdrTable | undefined> {
  return db.selectFrom('cdrs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', cdrId).executeTakeFirst();
}

/** The CDR of a call, for whoever knows the call id (the call service, tests). */
export async function getCdrByCall(db: Db, tenantId: string, callId: string): Promise<CdrTable | undefined> {
  return db.selectFrom('cdrs').selectAll().where('tenant_id', '=', tenantId).where('call_id', '=', callId).executeTakeFirst();
}

export interface CdrBucket {
  /** `YYYY-MM-DDTHH` (UTC) for hours, `YYYY-MM-DD` for days: the prefix of the ISO start time. */
  period: string;
  total: number;
  answered: number;
}

export interface CdrStats {
  total: number;
  answered: number;
  /** Mean start-to-end seconds over all calls; 0 when there are none. */
  avgDurationSeconds: number;
  /** Mean talk time over answered calls; 0 when none was answered. */
  avgBillableSeconds: number;
  byHour: CdrBucket[];
  byDay: CdrBucket[];
}

const answeredCount = sql<number>`sum(case when disposition = 'answered' then 1 else 0 end)`;

/**
 * Totals and buckets for the stats endpoint. Buckets group by a prefix of the ISO-8601 start time
 * (`substr`, portable to PostgreSQL), which are UTC hours and days because times are stored in UTC.
 */
export async function cdrStats(db: Db, tenantId: string, filter: CdrFilter = {}): Promise<CdrStats> {
  const totals = await filtered(db, tenantId, filter)
    .select((eb) => [
      eb.fn.countAll<number>().as('total'),
      answeredCount.as('answered'),
      eb.fn.avg<number | null>('duration_seconds').as('avg_duration'),
      sql<number | null>`avg(case when disposition = 'answered' then billable_seconds end)`.as('avg_billable'),
    ])
    .executeTakeFirstOrThrow();
  const buckets = async (chars: number): Promise<CdrBucket[]> => {
    const period = sql<string>`substr(started_at, 1, ${sql.lit(chars)})`;
    const rows = await filtered(db, tenantId, filter)
      .select((eb) => [period.as('period'), eb.fn.countAll<number>().as('total'), answeredCount.as('answered')])
      .groupBy(period)
      .orderBy(period)
      .execute();
    return rows.map((r) => ({ period: r.period, total: Number(r.total), answered: Number(r.answered) }));
  };
  return {
    total: Number(totals.total),
    answered: Number(totals.answered ?? 0),
    avgDurationSeconds: Number(totals.avg_duration ?? 0),
    avgBillableSeconds: Number(totals.avg_billable ?? 0),
    byHour: await buckets(13),
    byDay: await buckets(10),
  };
}

/**
 * Every record matching the filters, newest first, read in batches so an export never holds the
 * whole result in memory. Batches continue after the last row seen (keyset on start time and id),
 * not by offset, so records written meanwhile neither repeat nor shift rows out of the export.
 */
export async function* iterateCdrs(db: Db, tenantId: string, filter: CdrFilter = {}, opts: { batchSize?: number; max?: number } = {}): AsyncGenerator<CdrTable> {
  const batchSize = opts.batchSize ?? 1000;
  let left = opts.max ?? Number.POSITIVE_INFINITY;
  let after: { startedAt: string; id: string } | undefined;
  while (left > 0) {
    let q = filtered(db, tenantId, filter);
    if (after) {
      const { startedAt, id } = after;
      q = q.where((eb) => eb.or([eb('started_at', '<', startedAt), eb.and([eb('started_at', '=', startedAt), eb('id', '>', id)])]));
    }
    const rows = await q.selectAll().orderBy('started_at', 'desc').orderBy('id').limit(Math.min(batchSize, left)).execute();
    for (const row of rows) yield row;
    left -= rows.length;
    const last = rows.at(-1);
    if (!last || rows.length < batchSize) return;
    after = { startedAt: last.started_at, id: last.id };
  }
}

/** How many records match the filters (the export says when it stopped at its limit). */
export async function countCdrs(db: Db, tenantId: string, filter: CdrFilter = {}): Promise<number> {
  const { total } = await filtered(db, tenantId, filter).select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  return Number(total);
}
