import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { listAudit, type AuditEntry } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, registerRoute } from '../../route-registry.js';
import { jsonResponse } from '../../schemas.js';

export const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    actor_type: z.string().openapi({ example: 'api_key' }),
    actor_id: z.string().nullable(),
    action: z.string().openapi({ example: 'api_key.created' }),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    result: z.string(),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('AuditEntry');

const text = (name: string) => z.string().min(1).max(200).optional().openapi({ param: { name, in: 'query' } });
const instant = (name: string) => z.iso.datetime({ offset: true }).optional().openapi({ param: { name, in: 'query' } });

/** Filters; `from` inclusive and `to` exclusive, ISO instants. Newest first, always. */
const AuditQuery = paginationQuery(['created_at'])
  .pick({ limit: true, offset: true })
  .extend({
    action: text('action'),
    actor_id: text('actor_id'),
    target_type: text('target_type'),
    target_id: text('target_id'),
    from: instant('from'),
    to: instant('to'),
  });

export const listAuditRoute = defineRoute({
  method: 'get',
  path: '/api/v1/audit',
  scope: 'admin',
  tags: ['Audit'],
  summary: "The tenant's audit log, newest first",
  request: { query: AuditQuery },
  responses: { 200: jsonResponse(pageSchema(AuditEntrySchema), 'a page of audit entries') },
});

function auditDto(e: AuditEntry): z.infer<typeof AuditEntrySchema> {
  return {
    id: e.id,
    actor_type: e.actorType,
    actor_id: e.actorId,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    result: e.result,
    ip: e.ip,
    details: e.details,
    created_at: e.createdAt,
  };
}

/** Stored instants are UTC `…Z` text, so a filter given with an offset is normalised before comparing. */
const utc = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso).toISOString());

/** `GET /api/v1/audit` (`admin`): who changed what in the caller's tenant. */
export function registerAuditRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listAuditRoute, async (c) => {
    const query = c.req.valid('query');
    const from = utc(query.from);
    const to = utc(query.to);
    const result = await listAudit(deps.db, c.get('tenantId') ?? '', {
      limit: query.limit,
      offset: query.offset,
      ...(query.action !== undefined && { action: query.action }),
      ...(query.actor_id !== undefined && { actorId: query.actor_id }),
      ...(query.target_type !== undefined && { targetType: query.target_type }),
      ...(query.target_id !== undefined && { targetId: query.target_id }),
      ...(from !== undefined && { since: from }),
      ...(to !== undefined && { until: to }),
    });
    return c.json(page(result.items.map(auditDto), query, result.total), 200);
  });
}
