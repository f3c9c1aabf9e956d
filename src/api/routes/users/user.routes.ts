import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { appendAudit, createUser, deleteUser, getUser, inTransaction, listUsers, updateUser } from '../../../store/index.js';
import { hashPassword } from '../../auth/password.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { assertMayManage, assertNotLastOwner } from './user-guards.js';
import { CreateUserSchema, ROLES, UpdateUserSchema, UserSchema, userJson } from './user.schemas.js';

const tags = ['Users'];
const ListQuery = paginationQuery(['email', 'name', 'role', 'created_at'], 'email').extend({
  role: z.enum(ROLES).optional().openapi({ param: { name: 'role', in: 'query' } }),
});

export const listUsersRoute = defineRoute({
  method: 'get', path: '/api/v1/users', scope: 'admin', tags, summary: 'List the tenant\'s users',
  request: { query: ListQuery },
  responses: { 200: jsonResponse(pageSchema(UserSchema), 'a page of users') },
});
export const createUserRoute = defineRoute({
  method: 'post', path: '/api/v1/users', scope: 'admin', tags,
  summary: 'Create a user (email unique per tenant, case-insensitive)',
  request: { body: jsonBody(CreateUserSchema) },
  responses: { 201: jsonResponse(dataSchema(UserSchema), 'created'), ...errorResponses([409]) },
});
export const getUserRoute = defineRoute({
  method: 'get', path: '/api/v1/users/{id}', scope: 'admin', tags, summary: 'Get a user',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(UserSchema), 'the user'), ...errorResponses([404]) },
});
export const updateUserRoute = defineRoute({
  method: 'patch', path: '/api/v1/users/{id}', scope: 'admin', tags,
  summary: 'Change a user\'s email, name or role (the last owner cannot be demoted)',
  request: { params: IdParams, body: jsonBody(UpdateUserSchema) },
  responses: { 200: jsonResponse(dataSchema(UserSchema), 'updated'), ...errorResponses([404, 409]) },
});
export const deleteUserRoute = defineRoute({
  method: 'delete', path: '/api/v1/users/{id}', scope: 'admin', tags,
  summary: 'Delete a user and end their sessions (not the last owner)',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404, 409]) },
});

export function registerUserRoutes(app: OpenAPIHono<ApiEnv>, { db }: ResourceDeps): void {
  registerRoute(app, listUsersRoute, async (c) => {
    const q = c.req.valid('query');
    const result = await listUsers(db, callerTenantId(c), {
      limit: q.limit,
      offset: q.offset,
      ...(q.sort && { sort: q.sort }),
      ...(q.role && { role: q.role }),
    });
    return c.json(page(result.items.map(userJson), q, result.total), 200);
  });

  registerRoute(app, createUserRoute, async (c) => {
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    await assertMayManage(c, db, tenantId, [{ role: body.role }]);
    // Hashed before the transaction: ~0.1 s of scrypt must not hold the database's write lock.
    const passwordHash = await hashPassword(body.password);
    const user = await inTransaction(db, async (trx) => {
      const created = await createUser(trx, { tenantId, email: body.email, name: body.name, role: body.role, passwordHash });
      await appendAudit(trx, { ...auditActor(c), action: 'user.created', targetType: 'user', targetId: created.id, details: { email: created.email, role: created.role } });
      return created;
    });
    return c.json({ data: userJson(user) }, 201);
  });

  registerRoute(app, getUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json({ data: userJson(await getUser(db, callerTenantId(c), id)) }, 200);
  });

  registerRoute(app, updateUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    const user = await inTransaction(db, async (trx) => {
      const before = await getUser(trx, tenantId, id);
      // Any change to an owner (an email change too: it redirects the account) is an owner's call.
      await assertMayManage(c, trx, tenantId, [before, ...(body.role !== undefined ? [{ role: body.role }] : [])]);
      await assertNotLastOwner(trx, before, body.role);
      const updated = await updateUser(trx, tenantId, id, body);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'user.updated',
        targetType: 'user',
        targetId: id,
        details: { fields: Object.keys(body), ...(body.role !== undefined && { role: { from: before.role, to: updated.role } }) },
      });
      return updated;
    });
    return c.json({ data: userJson(user) }, 200);
  });

  registerRoute(app, deleteUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    await inTransaction(db, async (trx) => {
      const user = await getUser(trx, tenantId, id);
      await assertMayManage(c, trx, tenantId, [user]);
      await assertNotLastOwner(trx, user, undefined);
      await deleteUser(trx, tenantId, id);
      await appendAudit(trx, { ...auditActor(c), action: 'user.deleted', targetType: 'user', targetId: id, details: { email: user.email } });
    });
    return c.body(null, 204);
  });
}
