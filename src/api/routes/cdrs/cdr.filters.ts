import { z } from '@hono/zod-openapi';
import type { CdrFilter } from '../../../store/index.js';

/** Filters shared by the CDR list, its stats and its CSV export (issue 4 §6). */
export const DIRECTIONS = ['internal', 'inbound', 'outbound'] as const;
export const DISPOSITIONS = ['answered', 'busy', 'no_answer', 'cancelled', 'failed', 'interrupted'] as const;

const q = <T extends z.ZodType>(schema: T, name: string) => schema.optional().openapi({ param: { name, in: 'query' } });
/** Filters shared by the list and the stats; `from` inclusive, `to` exclusive (start time). */
export const filterShape = {
  from: q(z.iso.datetime({ offset: true }), 'from'),
  to: q(z.iso.datetime({ offset: true }), 'to'),
  direction: q(z.enum(DIRECTIONS), 'direction'),
  extension_id: q(z.string().min(1).max(64), 'extension_id'),
  site_id: q(z.string().min(1).max(64), 'site_id'),
  disposition: q(z.enum(DISPOSITIONS), 'disposition'),
};

/** Stored instants are UTC `…Z` text, so a filter given with an offset is normalised before comparing. */
const utc = (iso: string | undefined): string | undefined => (iso === undefined ? undefined : new Date(iso).toISOString());

export function filterOf(query: { from?: string; to?: string; direction?: CdrFilter['direction']; extension_id?: string; site_id?: string; disposition?: CdrFilter['disposition'] }): CdrFilter {
  const from = utc(query.from);
  const to = utc(query.to);
  return {
    ...(from !== undefined && { from }),
    ...(to !== undefined && { to }),
    ...(query.direction !== undefined && { direction: query.direction }),
    ...(query.extension_id !== undefined && { extensionId: query.extension_id }),
    ...(query.site_id !== undefined && { siteId: query.site_id }),
    ...(query.disposition !== undefined && { disposition: query.disposition }),
  };
}
