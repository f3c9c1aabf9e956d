import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import { cdrStats, getCdr, listCdrs } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonResponse } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { registerCdrExportRoute } from './cdr-export.routes.js';
import { DIRECTIONS, DISPOSITIONS, filterOf, filterShape } from './cdr.filters.js';

const tags = ['CDRs'];

/** One call record (issue 4 §6), as stored: times in UTC ISO-8601, durations in whole seconds. */
export const CdrSchema = z
  .object({
    id: z.uuid(),
    call_id: z.string(),
    direction: z.enum(DIRECTIONS),
    caller_number: z.string(),
    caller_name: z.string().nullable(),
    callee_number: z.string(),
    callee_name: z.string().nullable(),
    caller_extension_id: z.string().nullable(),
    callee_extension_id: z.string().nullable(),
    answered_extension_id: z.string().nullable().openapi({ description: 'The extension that answered: a ring-group member or a forward target may differ from the one dialled' }),
    site_id: z.string().nullable(),
    sip_call_id: z.string().nullable(),
    started_at: z.string(),
    answered_at: z.string().nullable(),
    ended_at: z.string(),
    duration_seconds: z.number().int(),
    billable_seconds: z.number().int(),
    hangup_cause: z.string().openapi({ example: 'NORMAL_CLEARING' }),
    sip_status: z.number().int().nullable(),
    disposition: z.enum(DISPOSITIONS),
    transferred_to_call_id: z.string().nullable().openapi({ description: 'A transfer ended this call: the call the transferee went on talking in (its CDR has this `call_id`)' }),
  })
  .openapi('Cdr');

const BucketSchema = z.object({ period: z.string(), total: z.number().int(), answered: z.number().int() });
export const CdrStatsSchema = z
  .object({
    total: z.number().int(),
    answered: z.number().int(),
    avg_duration_seconds: z.number(),
    avg_billable_seconds: z.number(),
    by_hour: z.array(BucketSchema).openapi({ description: 'UTC hours (`YYYY-MM-DDTHH`)' }),
    by_day: z.array(BucketSchema).openapi({ description: 'UTC days (`YYYY-MM-DD`)' }),
  })
  .openapi('CdrStats');

const ListQuery = paginationQuery(['started_at']).pick({ limit: true, offset: true }).extend(filterShape);
const StatsQuery = z.object(filterShape);

export const listCdrsRoute = defineRoute({
  method: 'get', path: '/api/v1/cdrs', scope: 'cdrs:read', tags, summary: 'Call records, newest first',
  request: { query: ListQuery },
  responses: { 200: jsonResponse(pageSchema(CdrSchema), 'a page of call records') },
});
export const cdrStatsRoute = defineRoute({
  method: 'get', path: '/api/v1/cdrs/stats', scope: 'cdrs:read', tags, summary: 'Totals, answered, averages, by hour and by day',
  request: { query: StatsQuery },
  responses: { 200: jsonResponse(dataSchema(CdrStatsSchema), 'call statistics over the filtered records') },
});
export const getCdrRoute = defineRoute({
  method: 'get', path: '/api/v1/cdrs/{id}', scope: 'cdrs:read', tags, summary: 'One call record',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(CdrSchema), 'the call record'), ...errorResponses([404]) },
});

/** `GET /api/v1/cdrs`, `/cdrs/stats`, `/cdrs/{id}` (`cdrs:read`): the caller's tenant's call records. */
export function registerCdrRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listCdrsRoute, async (c) => {
    const query = c.req.valid('query');
    const result = await listCdrs(deps.db, callerTenantId(c), filterOf(query), { limit: query.limit, offset: query.offset });
    return c.json(page(result.items.map(({ tenant_id: _tenant, created_at: _created, ...cdr }) => cdr), query, result.total), 200);
  });
  // Before `{id}`: "stats" and "export" are no UUIDs, and the item route would reject them.
  registerCdrExportRoute(app, deps);
  registerRoute(app, cdrStatsRoute, async (c) => {
    const s = await cdrStats(deps.db, callerTenantId(c), filterOf(c.req.valid('query')));
    return c.json({ data: { total: s.total, answered: s.answered, avg_duration_seconds: s.avgDurationSeconds, avg_billable_seconds: s.avgBillableSeconds, by_hour: s.byHour, by_day: s.byDay } }, 200);
  });
  registerRoute(app, getCdrRoute, async (c) => {
    const { id } = c.req.valid('param');
    const cdr = await getCdr(deps.db, callerTenantId(c), id);
    if (!cdr) throw new SwitchboardError('CDR_NOT_FOUND', `no call record ${id}`, { httpStatus: 404 });
    const { tenant_id: _tenant, created_at: _created, ...view } = cdr;
    return c.json({ data: view }, 200);
  });
}
