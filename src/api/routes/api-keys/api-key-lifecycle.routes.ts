import type { OpenAPIHono } from '@hono/zod-openapi';
import { appendAudit, getApiKey, inTransaction, revokeApiKey, rotateApiKey, type ApiKey, type Db } from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonResponse, noContent } from '../../schemas.js';
import { ApiKeySchema, ApiKeyWithSecretSchema, RotateApiKeyBody, apiKeyDto } from './api-key.schemas.js';

const tags = ['API keys'];

export const rotateApiKeyRoute = defineRoute({
  method: 'post',
  path: '/api/v1/api-keys/{id}/rotate',
  scope: 'admin',
  tags,
  summary: 'Rotate an API key: a new key with the same name, scopes and expiry; the old one is revoked',
  description: 'The new key is in the answer, once. With `grace_seconds` the old key keeps working that long.',
  // The body is optional: an empty POST rotates with no grace period.
  request: { params: IdParams, body: { required: false, content: { 'application/json': { schema: RotateApiKeyBody } } } },
  responses: {
    201: jsonResponse(dataSchema(ApiKeyWithSecretSchema.extend({ previous: ApiKeySchema })), 'the new key, and the old one with its revocation time'),
    ...errorResponses([404, 409]),
  },
});

export const revokeApiKeyRoute = defineRoute({
  method: 'post',
  path: '/api/v1/api-keys/{id}/revoke',
  scope: 'admin',
  tags,
  summary: 'Revoke an API key now (idempotent)',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(ApiKeySchema), 'the revoked key'), ...errorResponses([404]) },
});

export const deleteApiKeyRoute = defineRoute({
  method: 'delete',
  path: '/api/v1/api-keys/{id}',
  scope: 'admin',
  tags,
  summary: 'Revoke an API key (the row stays, for the audit trail and last-used history)',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404]) },
});

/**
 * Revokes and audits in one transaction; a key already revoked is left as it was and not audited
 * again, so repeating the call is harmless.
 */
async function revokeAudited(db: Db, tenantId: string, id: string, at: string, actor: ReturnType<typeof auditActor>): Promise<ApiKey> {
  return inTransaction(db, async (trx) => {
    const before = await getApiKey(trx, tenantId, id);
    const after = await revokeApiKey(trx, tenantId, id, at);
    if (after.revokedAt !== before.revokedAt) {
      await appendAudit(trx, { ...actor, action: 'api_key.revoked', targetType: 'api_key', targetId: id, details: { name: after.name } });
    }
    return after;
  });
}

export function registerApiKeyLifecycleRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  const now = () => new Date(deps.clock.now()).toISOString();

  registerRoute(app, rotateApiKeyRoute, async (c) => {
    const graceSeconds = (c.req.valid('json') as { grace_seconds?: number } | undefined)?.grace_seconds ?? 0;
    const tenantId = c.get('tenantId') ?? '';
    const { id } = c.req.valid('param');
    const at = now();
    const rotated = await inTransaction(deps.db, async (trx) => {
      const result = await rotateApiKey(trx, tenantId, id, at, { graceSeconds });
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'api_key.rotated',
        targetType: 'api_key',
        targetId: id,
        details: { new_key_id: result.apiKey.id, grace_seconds: graceSeconds, old_key_revoked_at: result.revoked.revokedAt },
      });
      return result;
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ data: { ...apiKeyDto(rotated.apiKey, at), key: rotated.key, previous: apiKeyDto(rotated.revoked, at) } }, 201);
  });

  registerRoute(app, revokeApiKeyRoute, async (c) => {
    const key = await revokeAudited(deps.db, c.get('tenantId') ?? '', c.req.valid('param').id, now(), auditActor(c));
    return c.json({ data: apiKeyDto(key, now()) }, 200);
  });

  registerRoute(app, deleteApiKeyRoute, async (c) => {
    await revokeAudited(deps.db, c.get('tenantId') ?? '', c.req.valid('param').id, now(), auditActor(c));
    return c.body(null, 204);
  });
}
