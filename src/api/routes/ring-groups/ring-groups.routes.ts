import type { OpenAPIHono } from '@hono/zod-openapi';
import { appendAudit, createRingGroup, deleteRingGroup, getRingGroup, inTransaction, listRingGroups, updateRingGroup } from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { CreateRingGroupBody, ListRingGroupsQuery, RingGroupSchema, UpdateRingGroupBody } from './ring-group.schemas.js';
import { checkReferences, ringGroupFields, ringGroupView, ringGroupViews, withNumberConflict } from './ring-group.view.js';

const tags = ['Ring groups'];

export const listRingGroupsRoute = defineRoute({
  method: 'get', path: '/api/v1/ring-groups', scope: 'voip:read', tags, summary: 'List ring groups',
  description: 'Filters: `strategy`, `site_id`, `extension_id` (groups it is a member of), `q` (number prefix), `number` (exact). Members included.',
  request: { query: ListRingGroupsQuery },
  responses: { 200: jsonResponse(pageSchema(RingGroupSchema), 'a page of ring groups') },
});

export const createRingGroupRoute = defineRoute({
  method: 'post', path: '/api/v1/ring-groups', scope: 'voip:write', tags, summary: 'Create a ring group',
  description:
    'Strategies: `simultaneous` (every member rings for `ring_timeout_seconds`), `sequential` (by priority, each for its ' +
    '`timeout_seconds` or the group\'s `member_timeout_seconds`), `round_robin` (sequential, starting after the member ' +
    'that answered last). The `number` shares the dial space with extensions (409 when taken by either). Members must ' +
    'be extensions of the caller\'s tenant (422 naming `members.N.extension_id`).',
  request: { body: jsonBody(CreateRingGroupBody) },
  responses: { 201: jsonResponse(dataSchema(RingGroupSchema), 'created'), ...errorResponses([409, 422]) },
});

export const getRingGroupRoute = defineRoute({
  method: 'get', path: '/api/v1/ring-groups/{id}', scope: 'voip:read', tags, summary: 'Get a ring group',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(RingGroupSchema), 'the ring group'), ...errorResponses([404]) },
});

export const updateRingGroupRoute = defineRoute({
  method: 'patch', path: '/api/v1/ring-groups/{id}', scope: 'voip:write', tags, summary: 'Update a ring group',
  description: 'Any field; `members`, when given, replaces the whole list.',
  request: { params: IdParams, body: jsonBody(UpdateRingGroupBody) },
  responses: { 200: jsonResponse(dataSchema(RingGroupSchema), 'updated'), ...errorResponses([404, 409, 422]) },
});

export const deleteRingGroupRoute = defineRoute({
  method: 'delete', path: '/api/v1/ring-groups/{id}', scope: 'voip:write', tags, summary: 'Delete a ring group',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404]) },
});

/** `/api/v1/ring-groups` CRUD (issue 4 §4). Every write is audited in its own transaction. */
export function registerRingGroupRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listRingGroupsRoute, async (c) => {
    const q = c.req.valid('query');
    const tenantId = callerTenantId(c);
    const result = await listRingGroups(deps.db, tenantId, {
      limit: q.limit,
      offset: q.offset,
      ...(q.sort && { sort: q.sort }),
      ...(q.strategy && { strategy: q.strategy }),
      ...(q.site_id && { siteId: q.site_id }),
      ...(q.extension_id && { extensionId: q.extension_id }),
      ...(q.q && { numberPrefix: q.q }),
      ...(q.number && { number: q.number }),
    });
    return c.json(page(await ringGroupViews(deps.db, tenantId, result.items), q, result.total), 200);
  });

  registerRoute(app, createRingGroupRoute, async (c) => {
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    const view = await inTransaction(deps.db, async (trx) => {
      await checkReferences(trx, tenantId, body, { number: body.number, fallbackNumber: body.fallback_number ?? null });
      const group = await withNumberConflict(body.number, () => createRingGroup(trx, { tenantId, ...ringGroupFields(body), number: body.number, name: body.name }));
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'ring_group.created',
        targetType: 'ring_group',
        targetId: group.id,
        details: { number: group.number, strategy: group.strategy, members: group.members.length, fields: Object.keys(body).sort() },
      });
      return ringGroupView(trx, tenantId, group);
    });
    return c.json({ data: view }, 201);
  });

  registerRoute(app, getRingGroupRoute, async (c) => {
    const tenantId = callerTenantId(c);
    const group = await getRingGroup(deps.db, tenantId, c.req.valid('param').id);
    return c.json({ data: await ringGroupView(deps.db, tenantId, group) }, 200);
  });

  registerRoute(app, updateRingGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    const view = await inTransaction(deps.db, async (trx) => {
      const current = await getRingGroup(trx, tenantId, id);
      const after = { number: body.number ?? current.number, fallbackNumber: body.fallback_number !== undefined ? body.fallback_number : current.fallbackNumber };
      await checkReferences(trx, tenantId, body, after);
      const updated = await withNumberConflict(body.number, () => updateRingGroup(trx, tenantId, id, ringGroupFields(body)));
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'ring_group.updated',
        targetType: 'ring_group',
        targetId: id,
        details: {
          number: updated.number,
          fields: Object.keys(body).sort(),
          ...(updated.number !== current.number && { previous_number: current.number }),
          ...(body.members !== undefined && { members: updated.members.length }),
        },
      });
      return ringGroupView(trx, tenantId, updated);
    });
    return c.json({ data: view }, 200);
  });

  registerRoute(app, deleteRingGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    await inTransaction(deps.db, async (trx) => {
      const current = await getRingGroup(trx, tenantId, id);
      await deleteRingGroup(trx, tenantId, id);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'ring_group.deleted',
        targetType: 'ring_group',
        targetId: id,
        details: { number: current.number, members: current.members.length },
      });
    });
    return c.body(null, 204);
  });
}
