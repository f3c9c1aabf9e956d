import { uuid } from '../../shared/ids.js';
import { nowIso, pageBounds, type Db, type Page, type PageRequest, type SortRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import type { UserRole, UserTable } from './user.table.js';

/** A user without the password hash, which only login needs (see {@link findUserForLogin}). */
export interface User {
  id: string;
  tenantId: string;
  email: string;
  name: string;
  role: UserRole;
  createdAt: string;
  updatedAt: string;
}

function toUser(row: UserTable): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Creates a user. `passwordHash` is already hashed by the auth layer (scrypt/argon2); the store
 * never sees a password. Emails are lower-cased so uniqueness per tenant ignores case.
 */
export async function createUser(
  db: Db,
  input: { tenantId: string; email: string; name: string; role: UserRole; passwordHash: string },
): Promise<User> {
  const now = nowIso();
  const row: UserTable = {
    id: uuid(),
    tenant_id: input.tenantId,
    email: input.email.trim().toLowerCase(),
    name: input.name,
    role: input.role,
    password_hash: input.passwordHash,
    created_at: now,
    updated_at: now,
  };
  await withDbErrors('user', () => db.insertInto('users').values(row).execute());
  return toUser(row);
}

/** The user within its tenant, or `USER_NOT_FOUND`. */
export async function getUser(db: Db, tenantId: string, id: string): Promise<User> {
  const row = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('user', id);
  return toUser(row);
}

/** The user and its password hash, for login only. */
export async function findUserForLogin(
  db: Db,
  tenantId: string,
  email: string,
): Promise<{ user: User; passwordHash: string } | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
  return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
}

/**
 * Every account with this email, across tenants, with hashes: login without a tenant id looks the
 * email up everywhere (emails are unique per tenant only).
 */
export async function findUsersForLoginByEmail(db: Db, email: string): Promise<Array<{ user: User; passwordHash: string }>> {
  const rows = await db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).limit(10).execute();
  return rows.map((row) => ({ user: toUser(row), passwordHash: row.password_hash }));
}

/** The user's password hash (change password verifies the current one), or `USER_NOT_FOUND`. */
export async function getUserPasswordHash(db: Db, tenantId: string, id: string): Promise<string> {
  const row = await db.selectFrom('users').select('password_hash').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('user', id);
  return row.password_hash;
}

/** How many owners a tenant has; a tenant must keep at least one (the last cannot go). */
export async function countOwners(db: Db, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A page of a tenant's users (by email unless another sort is asked for), optionally of one role. */
export async function listUsers(
  db: Db,
  tenantId: string,
  filter: PageRequest & { role?: UserRole; sort?: SortRequest<'email' | 'name' | 'role' | 'created_at'> } = {},
): Promise<Page<User>> {
  const { limit, offset } = pageBounds(filter);
  let query = db.selectFrom('users').where('tenant_id', '=', tenantId);
  if (filter.role !== undefined) query = query.where('role', '=', filter.role);
  const sort = filter.sort ?? { field: 'email', direction: 'asc' };
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toUser), total: Number(count.n) };
}

/** Updates email, name, role or password hash (change/reset password); a taken email raises `CONFLICT`. */
export async function updateUser(
  db: Db,
  tenantId: string,
  id: string,
  patch: { email?: string; name?: string; role?: UserRole; passwordHash?: string },
): Promise<User> {
  const row = await withDbErrors('user', () => db
    .updateTable('users')
    .set({
      ...(patch.email !== undefined && { email: patch.email.trim().toLowerCase() }),
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.role !== undefined && { role: patch.role }),
      ...(patch.passwordHash !== undefined && { password_hash: patch.passwordHash }),
      updated_at: nowIso(),
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst());
  if (!row) throw notFound('user', id);
  return toUser(row);
}

/** Deletes a user. */
export async function deleteUser(db: Db, tenantId: string, id: string): Promise<void> {
  const result = await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('user', id);
}
