import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import {
  appendAudit,
  countOwners,
  createSession,
  createTenant,
  createUser,
  findPrimaryTenant,
  inTransaction,
  updateTenant,
  type Db,
  type Tenant,
} from '../../../store/index.js';
import { hashPassword } from '../../auth/password.js';
import { clientIp } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonBody, jsonResponse } from '../../schemas.js';
import { SessionTokensSchema, sessionBody } from '../auth/auth.schemas.js';
import { CompleteSetupSchema, SetupStatusSchema } from './setup.schemas.js';

const tags = ['Setup'];

export const setupStatusRoute = defineRoute({
  method: 'get', path: '/api/v1/setup/status', scope: 'public', tags,
  summary: 'Whether first-run setup is done (an owner exists in the primary tenant)',
  responses: { 200: jsonResponse(dataSchema(SetupStatusSchema), 'the setup state') },
});
export const completeSetupRoute = defineRoute({
  method: 'post', path: '/api/v1/setup/complete', scope: 'public', tags,
  summary: 'Create the first owner (and name the primary tenant); only before setup is done',
  description: 'Answers a session like login. After the first owner exists: 409 SETUP_ALREADY_COMPLETE.',
  request: { body: jsonBody(CompleteSetupSchema) },
  responses: { 201: jsonResponse(dataSchema(SessionTokensSchema), 'the owner\'s session'), ...errorResponses([409]) },
});

async function setupState(db: Db): Promise<{ tenant: Tenant | undefined; complete: boolean }> {
  const tenant = await findPrimaryTenant(db);
  return { tenant, complete: tenant !== undefined && (await countOwners(db, tenant.id)) > 0 };
}

const alreadyComplete = () =>
  new SwitchboardError('SETUP_ALREADY_COMPLETE', 'setup is already complete; log in as an owner instead', { httpStatus: 409 });

export function registerSetupRoutes(app: OpenAPIHono<ApiEnv>, { db, clock }: ResourceDeps): void {
  registerRoute(app, setupStatusRoute, async (c) => {
    const { tenant, complete } = await setupState(db);
    const needs = complete ? [] : tenant ? (['owner'] as const) : (['tenant', 'owner'] as const);
    return c.json({ data: { setup_complete: complete, tenant: tenant ? { name: tenant.name, sip_domain: tenant.sip_domain } : null, needs: [...needs] } }, 200);
  });

  registerRoute(app, completeSetupRoute, async (c) => {
    const body = c.req.valid('json');
    // Cheap refusal first, so a finished install does not spend scrypt on every stray request.
    const state = await setupState(db);
    if (state.complete) throw alreadyComplete();
    if (!state.tenant && !body.tenant?.sip_domain) {
      // ZodRealError (unlike ZodError in zod 4) is an Error, so Hono hands it to onError, which
      // answers the usual 400 VALIDATION_FAILED naming the field.
      throw new z.ZodRealError([{ code: 'custom', path: ['tenant', 'sip_domain'], message: 'required: no tenant exists yet', input: undefined }]);
    }
    const passwordHash = await hashPassword(body.owner.password);
    const now = clock.now();
    const ip = clientIp(c);
    const result = await inTransaction(db, async (trx) => {
      let tenant = await findPrimaryTenant(trx);
      if (tenant) {
        // Writing the tenant row first serializes concurrent setups (a row lock on PostgreSQL; SQLite
        // has one writer anyway); the owner check below then sees any setup that committed first.
        tenant = await updateTenant(trx, tenant.id, {
          ...(body.tenant?.name !== undefined && { name: body.tenant.name }),
          ...(body.tenant?.sip_domain !== undefined && { sipDomain: body.tenant.sip_domain }),
          ...(body.tenant?.tenant_external_id !== undefined && { tenantExternalId: body.tenant.tenant_external_id }),
        });
        if ((await countOwners(trx, tenant.id)) > 0) throw alreadyComplete();
      } else {
        // Checked above; only a tenant deleted in between gets here.
        if (!body.tenant?.sip_domain) throw new SwitchboardError('VALIDATION_FAILED', 'tenant.sip_domain is required: no tenant exists', { httpStatus: 400 });
        tenant = await createTenant(trx, { name: body.tenant.name, sipDomain: body.tenant.sip_domain, tenantExternalId: body.tenant.tenant_external_id ?? null });
      }
      const user = await createUser(trx, { tenantId: tenant.id, email: body.owner.email, name: body.owner.name, role: 'owner', passwordHash });
      const issued = await createSession(trx, { tenantId: tenant.id, userId: user.id, now, ip, userAgent: c.req.header('user-agent') ?? null });
      await appendAudit(trx, {
        tenantId: tenant.id, actorType: 'user', actorId: user.id, ip,
        action: 'setup.completed', targetType: 'tenant', targetId: tenant.id,
        details: { owner_email: user.email, tenant_renamed: body.tenant !== undefined },
      });
      return { user, issued };
    });
    return c.json(sessionBody(c, result.issued, result.user, now), 201);
  });
}
