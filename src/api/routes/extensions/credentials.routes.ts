import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  appendAudit,
  generateSipPassword,
  getExtension,
  getExtensionSipPassword,
  getTenant,
  inTransaction,
  updateExtension,
  type Tenant,
} from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses } from '../../route-registry.js';
import { IdParams, dataSchema, jsonResponse } from '../../schemas.js';
import { removeBindings, wakeEventReaders, type BindingRemoval } from './binding-removal.js';
import { CredentialsSchema } from './extension.schemas.js';
import { registerWithFieldErrors, sipIdentity, tenantIdOf } from './extension.view.js';

const tags = ['Extensions'];

export const getCredentialsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/extensions/{id}/credentials',
  // Its own scope: provisioning tools need the password, ordinary integrations should not see it.
  scope: 'extensions:credentials',
  tags,
  summary: "Read an extension's SIP credentials",
  description: 'Every read is audited (`extension.credentials.read`, without the password).',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(CredentialsSchema), 'the SIP credentials'), ...errorResponses([404]) },
});

export const regenerateCredentialsRoute = defineRoute({
  method: 'post',
  path: '/api/v1/extensions/{id}/credentials/regenerate',
  scope: 'extensions:write',
  tags,
  summary: 'Generate a new SIP password',
  description:
    'The new password is in this answer (and later only through the credentials endpoint). Existing ' +
    'registrations are removed at once: phones must register again with the new password.',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(CredentialsSchema), 'the new SIP credentials'), ...errorResponses([404]) },
});

/**
 * The credentials a phone is configured with. `registrar` is the SIP domain: the API does not know
 * which address the SIP side listens on (it may sit behind NAT), and the domain is what phones
 * resolve (SRV/A) anyway.
 */
function credentials(tenant: Tenant, number: string, password: string) {
  return { ...sipIdentity(tenant, number), sip_password: password, registrar: tenant.sip_domain };
}

/** `/credentials` and `/credentials/regenerate` of an extension. */
export function registerCredentialsRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerWithFieldErrors(app, getCredentialsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = tenantIdOf(c);
    const data = await inTransaction(deps.db, async (trx) => {
      const extension = await getExtension(trx, tenantId, id);
      const password = await getExtensionSipPassword(trx, deps.secretKey, tenantId, id);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'extension.credentials.read',
        targetType: 'extension',
        targetId: id,
        details: { number: extension.number },
      });
      return credentials(await getTenant(trx, tenantId), extension.number, password);
    });
    return c.json({ data }, 200);
  });

  registerWithFieldErrors(app, regenerateCredentialsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = tenantIdOf(c);
    let removal: BindingRemoval | undefined;
    const data = await inTransaction(deps.db, async (trx) => {
      const password = generateSipPassword();
      const extension = await updateExtension(trx, deps.secretKey, tenantId, id, { sipPassword: password });
      removal = await removeBindings(trx, c, deps, { extensionId: id });
      const bindingsRemoved = removal.removed.length;
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'extension.credentials.regenerated',
        targetType: 'extension',
        targetId: id,
        details: { number: extension.number, bindings_removed: bindingsRemoved },
      });
      return credentials(await getTenant(trx, tenantId), extension.number, password);
    });
    wakeEventReaders(deps, removal);
    return c.json({ data }, 200);
  });
}
