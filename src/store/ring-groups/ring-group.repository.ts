import { uuid } from '../../shared/ids.js';
import { inTransaction, nowIso, pageBounds, type Db, type Page, type PageRequest, type SortRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import { assertDialNumberFree } from '../dial-numbers.js';
import type { RingGroupMemberTable, RingGroupTable, RingStrategy } from './ring-group.table.js';

export type { RingStrategy } from './ring-group.table.js';

/** One member as given and as read back; `timeoutSeconds` null means the group's member default. */
export interface RingGroupMember {
  extensionId: string;
  priority: number;
  timeoutSeconds: number | null;
}

/** A ring group with its members in ringing order (priority, then the order they were given in). */
export interface RingGroup {
  id: string;
  tenantId: string;
  number: string;
  name: string;
  description: string | null;
  strategy: RingStrategy;
  ringTimeoutSeconds: number;
  memberTimeoutSeconds: number;
  fallbackNumber: string | null;
  lastAnsweredExtensionId: string | null;
  siteId: string | null;
  members: RingGroupMember[];
  createdAt: string;
  updatedAt: string;
}

/** Settable fields; every one optional on update. `members` replaces the whole list. */
export interface RingGroupFields {
  number?: string;
  name?: string;
  description?: string | null;
  strategy?: RingStrategy;
  ringTimeoutSeconds?: number;
  memberTimeoutSeconds?: number;
  fallbackNumber?: string | null;
  siteId?: string | null;
  /** Without `priority` a member gets its 1-based place in the list. */
  members?: Array<{ extensionId: string; priority?: number; timeoutSeconds?: number | null }>;
}

export interface NewRingGroup extends RingGroupFields {
  tenantId: string;
  number: string;
  name: string;
}

export const RING_GROUP_DEFAULTS = { strategy: 'simultaneous', ringTimeoutSeconds: 30, memberTimeoutSeconds: 15 } as const;

function toRingGroup(row: RingGroupTable, members: RingGroupMemberTable[]): RingGroup {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    number: row.number,
    name: row.name,
    description: row.description,
    strategy: row.strategy,
    ringTimeoutSeconds: row.ring_timeout_seconds,
    memberTimeoutSeconds: row.member_timeout_seconds,
    fallbackNumber: row.fallback_number,
    lastAnsweredExtensionId: row.last_answered_extension_id,
    siteId: row.site_id,
    members: [...members]
      .sort((a, b) => a.priority - b.priority || a.position - b.position)
      .map((m) => ({ extensionId: m.extension_id, priority: m.priority, timeoutSeconds: m.timeout_seconds })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function columns(f: RingGroupFields): Partial<RingGroupTable> {
  return {
    ...(f.number !== undefined && { number: f.number }),
    ...(f.name !== undefined && { name: f.name }),
    ...(f.description !== undefined && { description: f.description }),
    ...(f.strategy !== undefined && { strategy: f.strategy }),
    ...(f.ringTimeoutSeconds !== undefined && { ring_timeout_seconds: f.ringTimeoutSeconds }),
    ...(f.memberTimeoutSeconds !== undefined && { member_timeout_seconds: f.memberTimeoutSeconds }),
    ...(f.fallbackNumber !== undefined && { fallback_number: f.fallbackNumber }),
    ...(f.siteId !== undefined && { site_id: f.siteId }),
  };
}

/** Replaces a group's members. Callers check the extensions belong to the tenant (the foreign key alone accepts any tenant's). */
async function writeMembers(db: Db, groupId: string, members: NonNullable<RingGroupFields['members']>): Promise<void> {
  await db.deleteFrom('ring_group_members').where('ring_group_id', '=', groupId).execute();
  if (members.length === 0) return;
  const rows: RingGroupMemberTable[] = members.map((m, i) => ({
    ring_group_id: groupId,
    extension_id: m.extensionId,
    priority: m.priority ?? i + 1,
    position: i,
    timeout_seconds: m.timeoutSeconds ?? null,
  }));
  await withDbErrors('ring group member', () => db.insertInto('ring_group_members').values(rows).execute());
}

async function membersOf(db: Db, groupIds: string[]): Promise<Map<string, RingGroupMemberTable[]>> {
  const byGroup = new Map<string, RingGroupMemberTable[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return byGroup;
  const rows = await db.selectFrom('ring_group_members').selectAll().where('ring_group_id', 'in', groupIds).execute();
  for (const row of rows) byGroup.get(row.ring_group_id)?.push(row);
  return byGroup;
}

/**
 * Creates a group and its members in one transaction. A number held by an extension or another
 * group of the tenant → `CONFLICT`; a member that is no extension → `INVALID_REFERENCE`.
 */
export async function createRingGroup(db: Db, input: NewRingGroup): Promise<RingGroup> {
  return inTransaction(db, async (trx) => {
    await assertDialNumberFree(trx, input.tenantId, input.number);
    const now = nowIso();
    const row: RingGroupTable = {
      id: uuid(),
      tenant_id: input.tenantId,
      number: input.number,
      name: input.name,
      description: null,
      strategy: RING_GROUP_DEFAULTS.strategy,
      ring_timeout_seconds: RING_GROUP_DEFAULTS.ringTimeoutSeconds,
      member_timeout_seconds: RING_GROUP_DEFAULTS.memberTimeoutSeconds,
      fallback_number: null,
      last_answered_extension_id: null,
      site_id: null,
      created_at: now,
      updated_at: now,
      ...columns(input),
    };
    await withDbErrors('ring group', () => trx.insertInto('ring_groups').values(row).execute());
    await writeMembers(trx, row.id, input.members ?? []);
    return getRingGroup(trx, input.tenantId, row.id);
  });
}

/** The group within its tenant, or `RING_GROUP_NOT_FOUND` (also for another tenant's id). */
export async function getRingGroup(db: Db, tenantId: string, id: string): Promise<RingGroup> {
  const row = await db.selectFrom('ring_groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('ring_group', id);
  return toRingGroup(row, (await membersOf(db, [row.id])).get(row.id) ?? []);
}

/** The group a dialled number names in the tenant, for the dialplan; undefined when none. */
export async function findRingGroupByNumber(db: Db, tenantId: string, number: string): Promise<RingGroup | undefined> {
  const row = await db.selectFrom('ring_groups').selectAll().where('tenant_id', '=', tenantId).where('number', '=', number).executeTakeFirst();
  if (!row) return undefined;
  return toRingGroup(row, (await membersOf(db, [row.id])).get(row.id) ?? []);
}

export type RingGroupSortField = 'number' | 'name' | 'created_at';

export interface RingGroupFilter extends PageRequest {
  strategy?: RingStrategy;
  siteId?: string;
  /** Numbers starting with these digits (callers pass digits only, so `LIKE` is safe). */
  numberPrefix?: string;
  number?: string;
  /** Groups this extension is a member of. */
  extensionId?: string;
  sort?: SortRequest<RingGroupSortField>;
}

/** A page of a tenant's groups (by number unless sorted otherwise), members included, with the total. */
export async function listRingGroups(db: Db, tenantId: string, filter: RingGroupFilter = {}): Promise<Page<RingGroup>> {
  const { limit, offset } = pageBounds(filter);
  let query = db.selectFrom('ring_groups').where('tenant_id', '=', tenantId);
  if (filter.strategy !== undefined) query = query.where('strategy', '=', filter.strategy);
  if (filter.siteId !== undefined) query = query.where('site_id', '=', filter.siteId);
  if (filter.numberPrefix !== undefined) query = query.where('number', 'like', `${filter.numberPrefix}%`);
  if (filter.number !== undefined) query = query.where('number', '=', filter.number);
  if (filter.extensionId !== undefined) {
    const memberOf = db.selectFrom('ring_group_members').select('ring_group_id').where('extension_id', '=', filter.extensionId);
    query = query.where('id', 'in', memberOf);
  }
  const sort = filter.sort ?? { field: 'number', direction: 'asc' };
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const members = await membersOf(db, rows.map((r) => r.id));
  return { items: rows.map((r) => toRingGroup(r, members.get(r.id) ?? [])), total: Number(count.n) };
}

/** Updates fields and, with `members`, replaces the member list; all in one transaction. */
export async function updateRingGroup(db: Db, tenantId: string, id: string, patch: RingGroupFields): Promise<RingGroup> {
  return inTransaction(db, async (trx) => {
    const current = await getRingGroup(trx, tenantId, id);
    if (patch.number !== undefined && patch.number !== current.number) {
      await assertDialNumberFree(trx, tenantId, patch.number, { kind: 'ring_group', id });
    }
    await withDbErrors('ring group', () =>
      trx.updateTable('ring_groups').set({ ...columns(patch), updated_at: nowIso() }).where('tenant_id', '=', tenantId).where('id', '=', id).execute(),
    );
    if (patch.members !== undefined) await writeMembers(trx, id, patch.members);
    return getRingGroup(trx, tenantId, id);
  });
}

/** Deletes a group; its members go with it (cascade). */
export async function deleteRingGroup(db: Db, tenantId: string, id: string): Promise<void> {
  const result = await db.deleteFrom('ring_groups').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('ring_group', id);
}

/**
 * Round-robin memory: `extensionId` answered a call of the group, so the next call starts after
 * it. Stored (not kept in memory) so the rotation survives a restart. A member removed meanwhile
 * is ignored: the memory must name a member or nothing.
 */
export async function recordRingGroupAnswer(db: Db, groupId: string, extensionId: string): Promise<void> {
  const isMember = db.selectFrom('ring_group_members').select('extension_id').where('ring_group_id', '=', groupId).where('extension_id', '=', extensionId);
  await db.updateTable('ring_groups').set({ last_answered_extension_id: extensionId }).where('id', '=', groupId).where(({ exists }) => exists(isMember)).execute();
}

/** Numbers of the tenant's groups that have this extension as a member (for the extension's delete audit). */
export async function ringGroupNumbersWithMember(db: Db, tenantId: string, extensionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('ring_groups')
    .innerJoin('ring_group_members', 'ring_group_members.ring_group_id', 'ring_groups.id')
    .select('ring_groups.number')
    .where('ring_groups.tenant_id', '=', tenantId)
    .where('ring_group_members.extension_id', '=', extensionId)
    .orderBy('ring_groups.number')
    .execute();
  return rows.map((r) => r.number);
}
