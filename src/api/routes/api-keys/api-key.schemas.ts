import { z } from '@hono/zod-openapi';
import type { ApiKey } from '../../../store/index.js';
import { apiKeyStatus } from '../../../store/index.js';
import { SCOPES, type Scope } from '../../route-registry.js';

/** Scopes a key may carry: every scope except `public`, which marks routes needing no key at all. */
export const GRANTABLE_SCOPES = SCOPES.filter((s): s is Exclude<Scope, 'public'> => s !== 'public') as [
  Exclude<Scope, 'public'>,
  ...Exclude<Scope, 'public'>[],
];

const ScopeList = z
  .array(z.enum(GRANTABLE_SCOPES))
  .min(1)
  .refine((list) => new Set(list).size === list.length, { message: 'scopes must not repeat' })
  .openapi({ example: ['voip:read', 'cdrs:read'] });

const Name = z.string().trim().min(1).max(100).openapi({ example: 'CRM integration' });

/** A key as listed: metadata only. The key itself is in create/rotate answers, once. */
export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    key_hint: z.string().openapi({ description: 'last 4 characters, to tell keys apart', example: '…a1b2' }),
    scopes: z.array(z.string()),
    status: z.enum(['active', 'expired', 'revoked']),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable().openapi({ description: 'in the future while a rotation grace period runs' }),
    created_at: z.string(),
  })
  .openapi('ApiKey');

/** Create/rotate answers: the metadata plus the key, which is never shown again. */
export const ApiKeyWithSecretSchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'the API key; store it now, it is shown only this once', example: 'sk_live_…' }),
}).openapi('ApiKeyWithSecret');

export const CreateApiKeyBody = z
  .object({
    name: Name,
    scopes: ScopeList,
    expires_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'a future instant; or use expires_in_days' }),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.expires_at !== undefined && b.expires_in_days !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['expires_in_days'], message: 'give expires_at or expires_in_days, not both' });
    }
  })
  .openapi('CreateApiKey');

export const UpdateApiKeyBody = z
  .object({ name: Name.optional(), scopes: ScopeList.optional() })
  .refine((b) => b.name !== undefined || b.scopes !== undefined, { message: 'give name or scopes', path: ['name'] })
  .openapi('UpdateApiKey');

export const RotateApiKeyBody = z
  .object({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(0)
      .openapi({ description: 'how long the old key keeps working (default 0: it stops at once)' }),
  })
  .openapi('RotateApiKey');

/** The API shape of a key at `now` (ISO); `key_hint` shows the last 4 characters after an ellipsis. */
export function apiKeyDto(key: ApiKey, now: string): z.infer<typeof ApiKeySchema> {
  return {
    id: key.id,
    name: key.name,
    key_hint: `…${key.keyHint}`,
    scopes: key.scopes,
    status: apiKeyStatus(key, now),
    expires_at: key.expiresAt,
    last_used_at: key.lastUsedAt,
    revoked_at: key.revokedAt,
    created_at: key.createdAt,
  };
}
