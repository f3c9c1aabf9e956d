import { z } from '@hono/zod-openapi';

/** Page size bounds: 50 by default keeps responses small; 500 caps a single query's cost. */
export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 500;

/** A parsed sort: the field and its direction (`-field` in the query means descending). */
export interface SortSpec<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

/**
 * The list query every collection route accepts: `limit` (1–500, default 50), `offset` (≥ 0,
 * default 0) and `sort` (`field` or `-field`, only from `sortable`, so clients cannot sort on
 * unindexed or private columns). Query strings arrive as text, hence the coercion.
 */
export function paginationQuery<const F extends string>(sortable: readonly [F, ...F[]], defaultSort?: F | `-${F}`) {
  const allowed = new Set<string>(sortable);
  return z.object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(PAGE_LIMIT_MAX)
      .default(PAGE_LIMIT_DEFAULT)
      .openapi({ param: { name: 'limit', in: 'query' }, example: PAGE_LIMIT_DEFAULT }),
    offset: z.coerce
      .number()
      .int()
      .min(0)
      .default(0)
      .openapi({ param: { name: 'offset', in: 'query' }, example: 0 }),
    sort: z
      .string()
      .optional()
      .transform((value, ctx): SortSpec<F> | undefined => {
        const raw = value ?? defaultSort;
        if (raw === undefined) return undefined;
        const desc = raw.startsWith('-');
        const field = desc ? raw.slice(1) : raw;
        if (!allowed.has(field)) {
          ctx.addIssue({ code: 'custom', message: `sort must be one of ${[...allowed].join(', ')} (prefix - for descending)` });
          return z.NEVER;
        }
        return { field: field as F, direction: desc ? 'desc' : 'asc' };
      })
      .openapi({
        param: { name: 'sort', in: 'query' },
        description: `one of ${sortable.join(', ')}; prefix with - for descending`,
        type: 'string',
      }),
  });
}

/** The pagination block of a list response. */
export const PaginationSchema = z
  .object({
    limit: z.number().int(),
    offset: z.number().int(),
    total: z.number().int(),
    has_more: z.boolean(),
  })
  .openapi('Pagination');
export type Pagination = z.infer<typeof PaginationSchema>;

/** `{ data: T[], pagination }`: the one shape of every list response (product.md §3). */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), pagination: PaginationSchema });
}

/** Builds a list response body, computing `has_more` so no route gets it wrong. */
export function page<T>(data: T[], q: { limit: number; offset: number }, total: number): { data: T[]; pagination: Pagination } {
  return {
    data,
    pagination: { limit: q.limit, offset: q.offset, total, has_more: q.offset + data.length < total },
  };
}
