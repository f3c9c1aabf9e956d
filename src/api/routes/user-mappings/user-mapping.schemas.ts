import { z } from '@hono/zod-openapi';
import type { UserMapping } from '../../../store/index.js';
import { PAGE_LIMIT_MAX } from '../../pagination.js';

/** CRM ids are opaque: numbers, `user_abc123`, emails, URNs; never a slash (it is a path segment). */
export const ExternalUserId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@+=-]+$/, 'letters, digits and . _ : @ + = - only')
  .openapi({ example: 'user_abc123' });

/** The outside system an id belongs to; `default` when an integration has only one. */
export const ExternalSystem = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and -')
  .default('default')
  .openapi({ example: 'crm' });

export const ExternalUserIdParams = z.object({
  external_user_id: ExternalUserId.openapi({ param: { name: 'external_user_id', in: 'path' } }),
});

/** `?external_system=` on item routes: which system's id the path names. */
export const ExternalSystemQuery = z.object({
  external_system: ExternalSystem.openapi({ param: { name: 'external_system', in: 'query' } }),
});

export const UserMappingSchema = z
  .object({
    id: z.uuid(),
    external_system: z.string(),
    external_user_id: z.string(),
    user_id: z.string().nullable(),
    extension_id: z.string().nullable(),
    extension_number: z.string().nullable(),
    display_name: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('UserMapping');

/** What a mapping points at: an extension (by id or number) and/or a user, at least one. */
const targetFields = {
  extension_id: z.uuid().optional(),
  extension_number: z.string().min(1).max(32).optional().openapi({ description: 'instead of extension_id', example: '1001' }),
  user_id: z.uuid().optional(),
  external_system: ExternalSystem,
  display_name: z.string().trim().min(1).max(200).nullable().optional(),
};

type Target = { extension_id?: string | undefined; extension_number?: string | undefined; user_id?: string | undefined };

/** Target rules shared by the single and batch bodies; `path` prefixes the field names. */
function checkTarget(b: Target, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  if (b.extension_id !== undefined && b.extension_number !== undefined) {
    ctx.addIssue({ code: 'custom', path: [...path, 'extension_number'], message: 'give extension_id or extension_number, not both' });
  }
  if (b.extension_id === undefined && b.extension_number === undefined && b.user_id === undefined) {
    ctx.addIssue({ code: 'custom', path: [...path, 'extension_id'], message: 'give extension_id, extension_number or user_id' });
  }
}

export const PutUserMappingBody = z.object(targetFields).superRefine((b, ctx) => checkTarget(b, ctx)).openapi('PutUserMapping');

const BatchItem = z.object({ external_user_id: ExternalUserId, ...targetFields });

export const BATCH_MAX = PAGE_LIMIT_MAX;

export const BatchUserMappingBody = z
  .object({ mappings: z.array(BatchItem).min(1).max(BATCH_MAX) })
  .superRefine((b, ctx) => {
    const seen = new Map<string, number>();
    b.mappings.forEach((item, i) => {
      checkTarget(item, ctx, ['mappings', i]);
      const id = `${item.external_system}\u0000${item.external_user_id}`;
      const first = seen.get(id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['mappings', i, 'external_user_id'], message: `repeats item ${first}` });
      else seen.set(id, i);
    });
  })
  .openapi('BatchUserMappings');

export type MappingItem = z.infer<typeof BatchItem>;

export function userMappingDto(m: UserMapping): z.infer<typeof UserMappingSchema> {
  return {
    id: m.id,
    external_system: m.externalSystem,
    external_user_id: m.externalUserId,
    user_id: m.userId,
    extension_id: m.extensionId,
    extension_number: m.extensionNumber,
    display_name: m.displayName,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}
