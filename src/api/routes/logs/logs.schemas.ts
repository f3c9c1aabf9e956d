import { z } from '@hono/zod-openapi';
import type { RequestLogRow, RequestLogStats } from '../../../store/index.js';

export const RequestLogSchema = z
  .object({
    id: z.uuid(),
    request_id: z.string(),
    method: z.string(),
    path: z.string().openapi({ description: 'without the query string, which is never recorded' }),
    route: z.string().nullable().openapi({ example: '/api/v1/extensions/:id' }),
    status: z.number().int(),
    duration_ms: z.number(),
    principal_id: z.string().nullable().openapi({ description: 'API key id or user id' }),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    error_code: z.string().nullable(),
    time: z.string(),
  })
  .openapi('RequestLogEntry');

export const RequestLogStatsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    total: z.number().int(),
    by_status_class: z.record(z.string(), z.number().int()).openapi({ example: { '2xx': 950, '4xx': 40, '5xx': 10 } }),
    error_rate: z.number().openapi({ description: 'share of requests answered ≥ 400 (0–1)' }),
    server_error_rate: z.number().openapi({ description: 'share answered ≥ 500 (0–1)' }),
    duration_ms: z.object({ avg: z.number().nullable(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }),
    by_route: z.array(
      z.object({ method: z.string(), route: z.string().nullable(), count: z.number().int(), errors: z.number().int(), avg_duration_ms: z.number() }),
    ),
  })
  .openapi('RequestLogStats');

const instant = (name: string) => z.iso.datetime({ offset: true }).optional().openapi({ param: { name, in: 'query' } });

/** The time window of a query; `from` inclusive, `to` exclusive. */
export const WindowQuery = z.object({ from: instant('from'), to: instant('to') });

export const LogFilterQuery = WindowQuery.extend({
  method: z
    .enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
    .optional()
    .openapi({ param: { name: 'method', in: 'query' } }),
  status: z.coerce.number().int().min(100).max(599).optional().openapi({ param: { name: 'status', in: 'query' } }),
  status_class: z.enum(['1xx', '2xx', '3xx', '4xx', '5xx']).optional().openapi({ param: { name: 'status_class', in: 'query' } }),
  path: z
    .string()
    .min(1)
    .max(512)
    .startsWith('/')
    .optional()
    .openapi({ param: { name: 'path', in: 'query' }, description: 'path prefix, e.g. /api/v1/extensions' }),
  request_id: z.string().min(1).max(128).optional().openapi({ param: { name: 'request_id', in: 'query' } }),
});

export function requestLogDto(r: RequestLogRow): z.infer<typeof RequestLogSchema> {
  return {
    id: r.id,
    request_id: r.request_id,
    method: r.method,
    path: r.path,
    route: r.route,
    status: r.status,
    duration_ms: r.duration_ms,
    principal_id: r.principal_id,
    ip: r.ip,
    user_agent: r.user_agent,
    error_code: r.error_code,
    time: r.time,
  };
}

export function statsDto(s: RequestLogStats, window: { from: string; to: string }): z.infer<typeof RequestLogStatsSchema> {
  return {
    ...window,
    total: s.total,
    by_status_class: s.byStatusClass,
    error_rate: s.errorRate,
    server_error_rate: s.serverErrorRate,
    duration_ms: s.duration,
    by_route: s.byRoute.map((r) => ({ method: r.method, route: r.route, count: r.count, errors: r.errors, avg_duration_ms: r.avgDurationMs })),
  };
}
