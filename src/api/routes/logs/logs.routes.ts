import type { OpenAPIHono } from '@hono/zod-openapi';
import { listRequestLog, requestLogStats } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { FieldError } from '../../errors.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonResponse } from '../../schemas.js';
import { LogFilterQuery, RequestLogSchema, RequestLogStatsSchema, WindowQuery, requestLogDto, statsDto } from './logs.schemas.js';

const tags = ['Logs'];
const DAY_MS = 86_400_000;

export const listLogsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/logs',
  scope: 'admin',
  tags,
  summary: "The tenant's API request log, newest first",
  description: 'Secrets are never recorded: no query strings, headers or bodies. Kept 7 days by default.',
  request: { query: paginationQuery(['time']).pick({ limit: true, offset: true }).extend(LogFilterQuery.shape) },
  responses: { 200: jsonResponse(pageSchema(RequestLogSchema), 'a page of requests') },
});

export const logStatsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/logs/stats',
  scope: 'admin',
  tags,
  summary: 'Request statistics over a window (default: the last 24 hours)',
  request: { query: WindowQuery },
  responses: { 200: jsonResponse(dataSchema(RequestLogStatsSchema), 'totals, status classes, error rates, latency percentiles, busiest routes') },
});

/**
 * `from`/`to` as stored instants (UTC `…Z` text compares in time order); `to` defaults to now and
 * `from` to `defaultSpanMs` before it when a default span is given.
 */
function window(q: { from?: string | undefined; to?: string | undefined }, nowMs: number, defaultSpanMs?: number): { from?: string; to?: string } {
  const toMs = q.to !== undefined ? Date.parse(q.to) : defaultSpanMs !== undefined ? nowMs : undefined;
  const fromMs = q.from !== undefined ? Date.parse(q.from) : toMs !== undefined && defaultSpanMs !== undefined ? toMs - defaultSpanMs : undefined;
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw new FieldError('VALIDATION_FAILED', 'invalid request: from', [{ field: 'from', issue: 'must be before to' }], 400);
  }
  return {
    ...(fromMs !== undefined && { from: new Date(fromMs).toISOString() }),
    ...(toMs !== undefined && { to: new Date(toMs).toISOString() }),
  };
}

/** `/api/v1/logs` and `/api/v1/logs/stats` (`admin`): the tenant's own requests only. */
export function registerLogRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, logStatsRoute, async (c) => {
    const w = window(c.req.valid('query'), deps.clock.now(), DAY_MS) as { from: string; to: string };
    const stats = await requestLogStats(deps.db, c.get('tenantId') ?? '', w);
    return c.json({ data: statsDto(stats, w) }, 200);
  });

  registerRoute(app, listLogsRoute, async (c) => {
    const q = c.req.valid('query');
    const result = await listRequestLog(deps.db, c.get('tenantId') ?? '', {
      limit: q.limit,
      offset: q.offset,
      ...window(q, deps.clock.now()),
      ...(q.method !== undefined && { method: q.method }),
      ...(q.status !== undefined && { status: q.status }),
      ...(q.status_class !== undefined && { statusClass: Number(q.status_class[0]) }),
      ...(q.path !== undefined && { pathPrefix: q.path }),
      ...(q.request_id !== undefined && { requestId: q.request_id }),
    });
    return c.json(page(result.items.map(requestLogDto), q, result.total), 200);
  });
}
