import { z } from '@hono/zod-openapi';
import { EXTERNAL_ID, HOSTNAME } from '../caller.js';
import { EmailSchema, PasswordSchema } from '../users/user.schemas.js';

export const SETUP_NEEDS = ['tenant', 'owner'] as const;

export const SetupStatusSchema = z
  .object({
    setup_complete: z.boolean(),
    tenant: z.object({ name: z.string(), sip_domain: z.string() }).nullable().openapi({ description: 'the primary tenant, if any' }),
    needs: z.array(z.enum(SETUP_NEEDS)).openapi({ description: 'what setup/complete still has to create' }),
  })
  .openapi('SetupStatus');

export const CompleteSetupSchema = z
  .object({
    owner: z.object({ email: EmailSchema, name: z.string().trim().min(1).max(200), password: PasswordSchema }),
    tenant: z
      .object({
        name: z.string().trim().min(1).max(200),
        sip_domain: z.string().trim().regex(HOSTNAME, 'must be a host name or IPv4 address').optional(),
        tenant_external_id: z.string().regex(EXTERNAL_ID, 'letters, digits, - and _ only, at most 64').optional(),
      })
      .optional()
      .openapi({ description: 'renames the primary tenant; required (with sip_domain) when no tenant exists yet' }),
  })
  .openapi('CompleteSetup');
