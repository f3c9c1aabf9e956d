import { z } from '@hono/zod-openapi';

/**
 * Small builders shared by every resource's route definitions, so request and response shapes are
 * declared the same way everywhere (product.md §3: `{"data": …}` for single objects).
 */

/** A JSON response with `schema` as its body. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

/** `{ data: T }`, the single-object success envelope. */
export function dataSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: item });
}

/** The `{id}` path parameter every item route takes (ids are UUIDs). */
export const IdParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: '0b5e8c1e-6f0a-4f7e-9d35-3c2e9b1f4a10' }),
});

/** 204 No Content, for deletes. */
export const noContent = { description: 'done; no body' } as const;
