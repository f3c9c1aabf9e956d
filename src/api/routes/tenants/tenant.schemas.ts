import { z } from '@hono/zod-openapi';
import { EXTERNAL_ID, HOSTNAME } from '../caller.js';
import { EmailSchema, PasswordSchema, UserSchema } from '../users/user.schemas.js';

/** A tenant as the API shows it (the row is already snake_case and holds no secret). */
export const TenantSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    sip_domain: z.string().openapi({ example: 'pbx.acme.example' }),
    realm: z.string().openapi({ description: 'digest realm; fixed at creation (stored HA1 values depend on it)' }),
    tenant_external_id: z.string().nullable().openapi({ example: 'w3suite-001' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Tenant');

const name = z.string().trim().min(1).max(200);
const sipDomain = z.string().trim().regex(HOSTNAME, 'must be a host name or IPv4 address');
const externalId = z.string().regex(EXTERNAL_ID, 'letters, digits, - and _ only, at most 64');

export const CreateTenantSchema = z
  .object({
    name,
    sip_domain: sipDomain,
    realm: z.string().regex(/^[^"\\\s]{1,253}$/, 'no quotes, backslashes or spaces; at most 253').optional(),
    tenant_external_id: externalId.nullable().optional(),
    owner: z
      .object({ email: EmailSchema, name, password: PasswordSchema })
      .optional()
      .openapi({ description: 'the new tenant\'s first owner: without one nobody could log in to it (users and keys are per tenant)' }),
  })
  .openapi('CreateTenant');

/** The created tenant, with its first owner when one was asked for. */
export const CreatedTenantSchema = TenantSchema.extend({ owner: UserSchema.optional() }).openapi('CreatedTenant');

export const REALM_IMMUTABLE = 'realm cannot change after creation: stored HA1 digests depend on it';

/**
 * `realm` is listed only to be refused by name: silently ignoring it would let a client believe
 * the realm changed while every phone kept failing to authenticate.
 */
export const UpdateTenantSchema = z
  .object({
    name: name.optional(),
    sip_domain: sipDomain.optional(),
    tenant_external_id: externalId.nullable().optional(),
    realm: z.unknown().optional().openapi({ description: REALM_IMMUTABLE }),
  })
  .superRefine((v, ctx) => {
    if (v.realm !== undefined) ctx.addIssue({ code: 'custom', path: ['realm'], message: REALM_IMMUTABLE });
  })
  .openapi('UpdateTenant');

export const ExternalIdParams = z.object({
  tenant_external_id: externalId.openapi({ param: { name: 'tenant_external_id', in: 'path' }, example: 'w3suite-001' }),
});
