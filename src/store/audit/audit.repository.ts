import { uuidv7 } from '../../shared/ids.js';
import { nowIso, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import type { AuditLogTable } from './audit.table.js';

/** One audit entry: who (actor) did what (action) to which resource (target), and the outcome. */
export interface AuditEntry {
  id: string;
  tenantId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  result: string;
  ip: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

/** What callers append; details must never hold secrets (keys, passwords). */
export type NewAuditEntry = Partial<Omit<AuditEntry, 'id' | 'createdAt' | 'actorType' | 'action'>> &
  Pick<AuditEntry, 'actorType' | 'action'>;

function toEntry(row: AuditLogTable): AuditEntry {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    result: row.result,
    ip: row.ip,
    details: JSON.parse(row.details) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

/**
 * Appends an entry. Pass the transaction of the change being audited so the entry and the change
 * commit or roll back together (issue 3: audit entries for every key event and every change).
 */
export async function appendAudit(db: Db, entry: NewAuditEntry, now = nowIso()): Promise<AuditEntry> {
  const row: AuditLogTable = {
    id: uuidv7(),
    tenant_id: entry.tenantId ?? null,
    actor_type: entry.actorType,
    actor_id: entry.actorId ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    result: entry.result ?? 'success',
    ip: entry.ip ?? null,
    details: JSON.stringify(entry.details ?? {}),
    created_at: now,
  };
  await db.insertInto('audit_log').values(row).execute();
  return toEntry(row);
}

/** Filters for {@link listAudit}; `since`/`until` are ISO timestamps (inclusive/exclusive). */
export interface AuditFilter extends PageRequest {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: string;
  until?: string;
}

/** A page of a tenant's audit entries, newest first, with the total matching the filters. */
export async function listAudit(db: Db, tenantId: string, filter: AuditFilter = {}): Promise<Page<AuditEntry>> {
  const { limit, offset } = pageBounds(filter);
  let query = db.selectFrom('audit_log').where('tenant_id', '=', tenantId);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
  if (filter.targetType !== undefined) query = query.where('target_type', '=', filter.targetType);
  if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('created_at', '<', filter.until);
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toEntry), total: Number(count.n) };
}
