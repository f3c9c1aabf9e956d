import { uuid } from '../../shared/ids.js';
import { inTransaction, nowIso, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import type { UserMappingTable } from './user-mapping.table.js';

/** A mapping as the app sees it, with the extension's number joined in for display and dialing. */
export interface UserMapping {
  id: string;
  tenantId: string;
  externalSystem: string;
  externalUserId: string;
  userId: string | null;
  extensionId: string | null;
  extensionNumber: string | null;
  displayName: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What an upsert sets; the mapping is identified by (tenant, system, external id). */
export interface UserMappingInput {
  tenantId: string;
  externalSystem: string;
  externalUserId: string;
  userId: string | null;
  extensionId: string | null;
  displayName: string | null;
}

type Row = UserMappingTable & { extension_number: string | null };

function toMapping(row: Row): UserMapping {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    externalSystem: row.external_system,
    externalUserId: row.external_user_id,
    userId: row.user_id,
    extensionId: row.extension_id,
    extensionNumber: row.extension_number,
    displayName: row.display_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Mappings joined with their extension's number (left join: a user-only mapping has none). */
function selectMappings(db: Db, tenantId: string) {
  return db
    .selectFrom('external_user_mappings as m')
    .leftJoin('extensions as e', 'e.id', 'm.extension_id')
    .where('m.tenant_id', '=', tenantId);
}

const columns = [
  'm.id',
  'm.tenant_id',
  'm.external_system',
  'm.external_user_id',
  'm.user_id',
  'm.extension_id',
  'm.display_name',
  'm.created_at',
  'm.updated_at',
  'e.number as extension_number',
] as const;

/** The mapping of one external id; `USER_MAPPING_NOT_FOUND` (404) otherwise. */
export async function getUserMapping(db: Db, tenantId: string, externalSystem: string, externalUserId: string): Promise<UserMapping> {
  const row = await selectMappings(db, tenantId)
    .where('m.external_system', '=', externalSystem)
    .where('m.external_user_id', '=', externalUserId)
    .select(columns)
    .executeTakeFirst();
  if (!row) throw notFound('user_mapping', `${externalSystem}/${externalUserId}`);
  return toMapping(row);
}

/**
 * Creates or replaces the mapping of (tenant, system, external id): PUT semantics, so fields not
 * given become null. Reports whether it was new (201 vs 200). References must already be checked
 * to be the tenant's ({@link findMappingTargets}); the foreign keys only catch rows that vanished.
 */
export async function upsertUserMapping(db: Db, input: UserMappingInput, now = nowIso()): Promise<{ mapping: UserMapping; created: boolean }> {
  return inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom('external_user_mappings')
      .select('id')
      .where('tenant_id', '=', input.tenantId)
      .where('external_system', '=', input.externalSystem)
      .where('external_user_id', '=', input.externalUserId)
      .executeTakeFirst();
    const values = { user_id: input.userId, extension_id: input.extensionId, display_name: input.displayName, updated_at: now };
    await withDbErrors('user mapping', async () => {
      if (existing) await trx.updateTable('external_user_mappings').set(values).where('id', '=', existing.id).execute();
      else
        await trx
          .insertInto('external_user_mappings')
          .values({ id: uuid(), tenant_id: input.tenantId, external_system: input.externalSystem, external_user_id: input.externalUserId, created_at: now, ...values })
          .execute();
    });
    return { mapping: await getUserMapping(trx, input.tenantId, input.externalSystem, input.externalUserId), created: !existing };
  });
}

/** Filters of {@link listUserMappings}. */
export interface UserMappingFilter extends PageRequest {
  externalSystem?: string;
  extensionId?: string;
  userId?: string;
}

/** A page of a tenant's mappings by system and external id. */
export async function listUserMappings(db: Db, tenantId: string, filter: UserMappingFilter = {}): Promise<Page<UserMapping>> {
  const { limit, offset } = pageBounds(filter);
  let query = selectMappings(db, tenantId);
  if (filter.externalSystem !== undefined) query = query.where('m.external_system', '=', filter.externalSystem);
  if (filter.extensionId !== undefined) query = query.where('m.extension_id', '=', filter.extensionId);
  if (filter.userId !== undefined) query = query.where('m.user_id', '=', filter.userId);
  const [rows, count] = await Promise.all([
    query.select(columns).orderBy('m.external_system').orderBy('m.external_user_id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toMapping), total: Number(count.n) };
}

/** Deletes one mapping and returns what it was (for the audit entry). */
export async function deleteUserMapping(db: Db, tenantId: string, externalSystem: string, externalUserId: string): Promise<UserMapping> {
  return inTransaction(db, async (trx) => {
    const mapping = await getUserMapping(trx, tenantId, externalSystem, externalUserId);
    await trx.deleteFrom('external_user_mappings').where('id', '=', mapping.id).execute();
    return mapping;
  });
}

/**
 * Which of these references exist in the tenant, in three queries whatever the batch size, so a
 * 500-item batch checks every item before writing any: extensions by id and by number, users by id.
 */
export async function findMappingTargets(
  db: Db,
  tenantId: string,
  refs: { extensionIds: string[]; extensionNumbers: string[]; userIds: string[] },
): Promise<{ extensionIds: Set<string>; extensionByNumber: Map<string, string>; userIds: Set<string> }> {
  const [byId, byNumber, users] = await Promise.all([
    refs.extensionIds.length === 0
      ? []
      : db.selectFrom('extensions').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(refs.extensionIds)]).execute(),
    refs.extensionNumbers.length === 0
      ? []
      : db.selectFrom('extensions').select(['id', 'number']).where('tenant_id', '=', tenantId).where('number', 'in', [...new Set(refs.extensionNumbers)]).execute(),
    refs.userIds.length === 0
      ? []
      : db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(refs.userIds)]).execute(),
  ]);
  return {
    extensionIds: new Set(byId.map((r) => r.id)),
    extensionByNumber: new Map(byNumber.map((r) => [r.number, r.id])),
    userIds: new Set(users.map((r) => r.id)),
  };
}
