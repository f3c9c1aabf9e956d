import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { appendAudit, deleteUserMapping, getExtension, getUserMapping, inTransaction, listUserMappings } from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonResponse, noContent } from '../../schemas.js';
import { ExternalSystemQuery, ExternalUserIdParams, UserMappingSchema, userMappingDto } from './user-mapping.schemas.js';

const tags = ['User mappings'];
/** Mappings come back in (system, external id) order; sorting other ways buys nothing here. */
const Paging = paginationQuery(['external_user_id']).pick({ limit: true, offset: true });

export const listUserMappingsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/user-mappings',
  scope: 'voip:read',
  tags,
  summary: 'List external user mappings (CRM user id ↔ user/extension)',
  request: {
    query: Paging.extend({
      external_system: z.string().max(64).optional().openapi({ param: { name: 'external_system', in: 'query' } }),
      extension_id: z.uuid().optional().openapi({ param: { name: 'extension_id', in: 'query' } }),
      user_id: z.uuid().optional().openapi({ param: { name: 'user_id', in: 'query' } }),
    }),
  },
  responses: { 200: jsonResponse(pageSchema(UserMappingSchema), 'a page of mappings') },
});

export const getUserMappingRoute = defineRoute({
  method: 'get',
  path: '/api/v1/user-mappings/{external_user_id}',
  scope: 'voip:read',
  tags,
  summary: 'Look up the mapping of an external user id',
  request: { params: ExternalUserIdParams, query: ExternalSystemQuery },
  responses: { 200: jsonResponse(dataSchema(UserMappingSchema), 'the mapping'), ...errorResponses([404]) },
});

export const mappingsByExtensionRoute = defineRoute({
  method: 'get',
  path: '/api/v1/user-mappings/by-extension/{extension_id}',
  scope: 'voip:read',
  tags,
  summary: 'Reverse lookup: the external users mapped to an extension',
  request: {
    params: z.object({ extension_id: z.uuid().openapi({ param: { name: 'extension_id', in: 'path' } }) }),
    query: Paging,
  },
  responses: { 200: jsonResponse(pageSchema(UserMappingSchema), 'mappings of the extension'), ...errorResponses([404]) },
});

export const deleteUserMappingRoute = defineRoute({
  method: 'delete',
  path: '/api/v1/user-mappings/{external_user_id}',
  scope: 'extensions:sync',
  tags,
  summary: 'Delete the mapping of an external user id',
  request: { params: ExternalUserIdParams, query: ExternalSystemQuery },
  responses: { 204: noContent, ...errorResponses([404]) },
});

export function registerUserMappingReadRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listUserMappingsRoute, async (c) => {
    const q = c.req.valid('query');
    const result = await listUserMappings(deps.db, c.get('tenantId') ?? '', {
      limit: q.limit,
      offset: q.offset,
      ...(q.external_system !== undefined && { externalSystem: q.external_system }),
      ...(q.extension_id !== undefined && { extensionId: q.extension_id }),
      ...(q.user_id !== undefined && { userId: q.user_id }),
    });
    return c.json(page(result.items.map(userMappingDto), q, result.total), 200);
  });

  registerRoute(app, getUserMappingRoute, async (c) => {
    const mapping = await getUserMapping(deps.db, c.get('tenantId') ?? '', c.req.valid('query').external_system, c.req.valid('param').external_user_id);
    return c.json({ data: userMappingDto(mapping) }, 200);
  });

  registerRoute(app, mappingsByExtensionRoute, async (c) => {
    const tenantId = c.get('tenantId') ?? '';
    const { extension_id: extensionId } = c.req.valid('param');
    const q = c.req.valid('query');
    // 404 for an unknown (or another tenant's) extension, rather than an empty list that hides the typo.
    await getExtension(deps.db, tenantId, extensionId);
    const result = await listUserMappings(deps.db, tenantId, { limit: q.limit, offset: q.offset, extensionId });
    return c.json(page(result.items.map(userMappingDto), q, result.total), 200);
  });

  registerRoute(app, deleteUserMappingRoute, async (c) => {
    const tenantId = c.get('tenantId') ?? '';
    await inTransaction(deps.db, async (trx) => {
      const gone = await deleteUserMapping(trx, tenantId, c.req.valid('query').external_system, c.req.valid('param').external_user_id);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'user_mapping.deleted',
        targetType: 'user_mapping',
        targetId: gone.id,
        details: { external_system: gone.externalSystem, external_user_id: gone.externalUserId },
      });
    });
    return c.body(null, 204);
  });
}
