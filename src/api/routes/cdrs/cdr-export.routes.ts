/**
 * `GET /api/v1/cdrs/export`: the filtered call records as a CSV download (issue 4 §6), for
 * spreadsheets and billing imports. A route of its own rather than `?format=csv` on the list: the
 * list pages at 500 and answers JSON; the export has its own bound and content type, and the
 * OpenAPI document can describe each exactly.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { countCdrs, iterateCdrs, type CdrFilter, type CdrTable } from '../../../store/index.js';
import { csvLine } from '../../csv.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, registerRoute } from '../../route-registry.js';
import { callerTenantId } from '../caller.js';
import { filterOf, filterShape } from './cdr.filters.js';

/** Rows one request may export: enough for a month of a busy tenant, bounded so one request cannot run for minutes. */
export const CDR_EXPORT_MAX_ROWS = 100_000;
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** The columns, in the order and with the names of the JSON CDR (`GET /cdrs/{id}`). */
export const CDR_CSV_COLUMNS = [
  'id', 'call_id', 'direction', 'caller_number', 'caller_name', 'callee_number', 'callee_name', 'caller_extension_id', 'callee_extension_id',
  'answered_extension_id', 'site_id', 'sip_call_id', 'started_at', 'answered_at', 'ended_at', 'duration_seconds', 'billable_seconds',
  'hangup_cause', 'sip_status', 'disposition', 'transferred_to_call_id',
] as const satisfies ReadonlyArray<keyof CdrTable>;

const ExportQuery = z.object({
  ...filterShape,
  limit: z.coerce.number().int().min(1).max(CDR_EXPORT_MAX_ROWS).default(CDR_EXPORT_MAX_ROWS)
    .openapi({ param: { name: 'limit', in: 'query' }, description: `Most rows to export (at most ${CDR_EXPORT_MAX_ROWS})` }),
});

export const exportCdrsRoute = defineRoute({
  method: 'get', path: '/api/v1/cdrs/export', scope: 'cdrs:read', tags: ['CDRs'], summary: 'Call records as CSV, newest first',
  description: [
    'The same filters as `GET /cdrs`; one header row, then one record per line (RFC 4180, CRLF), UTF-8.',
    `At most \`limit\` rows (default and maximum ${CDR_EXPORT_MAX_ROWS}); when more match, \`X-Export-Truncated: true\` is set and \`X-Total-Count\` says how many matched — narrow the dates and export again.`,
    "Text cells starting with `=`, `+`, `-` or `@` are prefixed with `'` so spreadsheets do not run them as formulas (a caller number `+1555…` reads `'+1555…`).",
  ].join('\n\n'),
  request: { query: ExportQuery },
  responses: { 200: { description: 'CSV download (`Content-Disposition: attachment`)', content: { 'text/csv': { schema: z.string() } } } },
});

/** The CSV body, streamed: rows are read in batches as the client reads, never all at once. */
function csvStream(deps: ResourceDeps, tenantId: string, filter: CdrFilter, max: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const rows = iterateCdrs(deps.db, tenantId, filter, { max });
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A few hundred rows per chunk: fewer, larger writes than one per row.
      let chunk = headerSent ? '' : csvLine(CDR_CSV_COLUMNS);
      headerSent = true;
      for (let i = 0; i < 500; i++) {
        const next = await rows.next();
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          return controller.close();
        }
        chunk += csvLine(CDR_CSV_COLUMNS.map((col) => next.value[col]));
      }
      controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
}

export function registerCdrExportRoute(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, exportCdrsRoute, async (c) => {
    const tenantId = callerTenantId(c);
    const query = c.req.valid('query');
    const filter = filterOf(query);
    const total = await countCdrs(deps.db, tenantId, filter);
    const stamp = new Date(deps.clock.now()).toISOString().slice(0, 19).replace(/[-:]/g, '');
    return c.body(csvStream(deps, tenantId, filter, query.limit), 200, {
      'Content-Type': CSV_CONTENT_TYPE,
      'Content-Disposition': `attachment; filename="cdrs-${stamp}Z.csv"`,
      'Cache-Control': 'no-store',
      'X-Total-Count': String(total),
      ...(total > query.limit ? { 'X-Export-Truncated': 'true' } : {}),
    });
  });
}
