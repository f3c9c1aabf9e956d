import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { appendAudit, inTransaction, upsertUserMapping } from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonBody, jsonResponse } from '../../schemas.js';
import { resolveMappingItems } from './resolve-targets.js';
import { BATCH_MAX, BatchUserMappingBody, ExternalUserIdParams, PutUserMappingBody, UserMappingSchema, userMappingDto } from './user-mapping.schemas.js';

const tags = ['User mappings'];

export const putUserMappingRoute = defineRoute({
  method: 'put',
  path: '/api/v1/user-mappings/{external_user_id}',
  scope: 'extensions:sync',
  tags,
  summary: 'Create or replace the mapping of an external user id',
  description: 'Fields left out become null (PUT replaces). References must be in the caller\'s tenant, else 422 naming the field.',
  request: { params: ExternalUserIdParams, body: jsonBody(PutUserMappingBody) },
  responses: {
    200: jsonResponse(dataSchema(UserMappingSchema), 'replaced'),
    201: jsonResponse(dataSchema(UserMappingSchema), 'created'),
    ...errorResponses([422]),
  },
});

const BatchResultSchema = z
  .object({ count: z.number().int(), created: z.number().int(), updated: z.number().int(), mappings: z.array(UserMappingSchema) })
  .openapi('BatchUserMappingsResult');

export const batchUserMappingsRoute = defineRoute({
  method: 'post',
  path: '/api/v1/user-mappings/batch',
  scope: 'extensions:sync',
  tags,
  summary: `Create or replace up to ${BATCH_MAX} mappings, all or nothing`,
  description: 'One transaction: if any item is invalid nothing is written, and the error lists each failing item and field (`mappings.3.extension_id`).',
  request: { body: jsonBody(BatchUserMappingBody) },
  responses: { 200: jsonResponse(dataSchema(BatchResultSchema), 'every mapping, as stored'), ...errorResponses([422]) },
});

export function registerUserMappingWriteRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, putUserMappingRoute, async (c) => {
    const tenantId = c.get('tenantId') ?? '';
    const item = { ...c.req.valid('json'), external_user_id: c.req.valid('param').external_user_id };
    const result = await inTransaction(deps.db, async (trx) => {
      const [input] = await resolveMappingItems(trx, tenantId, [item], () => '');
      const done = await upsertUserMapping(trx, input!);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'user_mapping.upserted',
        targetType: 'user_mapping',
        targetId: done.mapping.id,
        details: { created: done.created, external_system: input!.externalSystem, external_user_id: input!.externalUserId, extension_id: input!.extensionId, user_id: input!.userId },
      });
      return done;
    });
    const body = { data: userMappingDto(result.mapping) };
    return result.created ? c.json(body, 201) : c.json(body, 200);
  });

  registerRoute(app, batchUserMappingsRoute, async (c) => {
    const tenantId = c.get('tenantId') ?? '';
    const { mappings } = c.req.valid('json');
    const results = await inTransaction(deps.db, async (trx) => {
      const inputs = await resolveMappingItems(trx, tenantId, mappings, (i) => `mappings.${i}.`);
      const done = [];
      for (const input of inputs) done.push(await upsertUserMapping(trx, input));
      const created = done.filter((d) => d.created).length;
      // One entry for the batch: 500 entries per sync would drown every other change in the log.
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'user_mapping.batch_upserted',
        targetType: 'user_mapping',
        details: { count: done.length, created, updated: done.length - created, external_user_ids: inputs.slice(0, 50).map((i) => i.externalUserId) },
      });
      return done;
    });
    const created = results.filter((r) => r.created).length;
    return c.json({ data: { count: results.length, created, updated: results.length - created, mappings: results.map((r) => userMappingDto(r.mapping)) } }, 200);
  });
}
