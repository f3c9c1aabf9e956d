import type { OpenAPIHono } from '@hono/zod-openapi';
import { appendAudit, createApiKey, getApiKey, inTransaction, pageApiKeys, updateApiKey } from '../../../store/index.js';
import { hasScope } from '../../api-key-auth.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { FieldError } from '../../errors.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute, type Scope } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse } from '../../schemas.js';
import { ApiKeySchema, ApiKeyWithSecretSchema, CreateApiKeyBody, UpdateApiKeyBody, apiKeyDto } from './api-key.schemas.js';

const tags = ['API keys'];

export const listApiKeysRoute = defineRoute({
  method: 'get',
  path: '/api/v1/api-keys',
  scope: 'admin',
  tags,
  summary: 'List API keys (metadata only; keys are never shown again)',
  request: { query: paginationQuery(['created_at', 'name'], '-created_at') },
  responses: { 200: jsonResponse(pageSchema(ApiKeySchema), 'a page of keys') },
});

export const getApiKeyRoute = defineRoute({
  method: 'get',
  path: '/api/v1/api-keys/{id}',
  scope: 'admin',
  tags,
  summary: 'Get an API key',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(ApiKeySchema), 'the key'), ...errorResponses([404]) },
});

export const createApiKeyRoute = defineRoute({
  method: 'post',
  path: '/api/v1/api-keys',
  scope: 'admin',
  tags,
  summary: 'Create an API key; the answer holds the key, shown only this once',
  request: { body: jsonBody(CreateApiKeyBody) },
  responses: { 201: jsonResponse(dataSchema(ApiKeyWithSecretSchema), 'created'), ...errorResponses([409, 422]) },
});

export const updateApiKeyRoute = defineRoute({
  method: 'patch',
  path: '/api/v1/api-keys/{id}',
  scope: 'admin',
  tags,
  summary: 'Rename an API key or replace its scopes',
  request: { params: IdParams, body: jsonBody(UpdateApiKeyBody) },
  responses: { 200: jsonResponse(dataSchema(ApiKeySchema), 'updated'), ...errorResponses([404, 409]) },
});

/**
 * A key cannot carry more than its creator holds, or a narrow key with access to key management
 * could mint itself an admin key. (The routes here need `admin`, which implies every scope, so
 * this only bites if a narrower principal is ever allowed to manage keys.)
 */
export function assertGrantable(callerScopes: readonly string[], requested: readonly Scope[]): void {
  const missing = requested.flatMap((scope, i) => (hasScope(callerScopes, scope) ? [] : [{ field: `scopes.${i}`, issue: `you lack ${scope}, so you cannot grant it` }]));
  if (missing.length > 0) throw new FieldError('FORBIDDEN', 'a key cannot grant scopes its creator lacks', missing, 403);
}

/** `expires_at`/`expires_in_days` → the stored expiry; a past instant is refused, naming the field. */
function expiryOf(body: { expires_at?: string | undefined; expires_in_days?: number | undefined }, nowMs: number): string | null {
  if (body.expires_in_days !== undefined) return new Date(nowMs + body.expires_in_days * 86_400_000).toISOString();
  if (body.expires_at === undefined) return null;
  const at = Date.parse(body.expires_at);
  if (at <= nowMs) throw new FieldError('VALIDATION_FAILED', 'invalid request: expires_at', [{ field: 'expires_at', issue: 'must be in the future' }], 400);
  return new Date(at).toISOString();
}

export function registerApiKeyCrudRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  const now = () => new Date(deps.clock.now()).toISOString();

  registerRoute(app, listApiKeysRoute, async (c) => {
    const q = c.req.valid('query');
    const result = await pageApiKeys(deps.db, c.get('tenantId') ?? '', { limit: q.limit, offset: q.offset, ...(q.sort ? { sort: q.sort } : {}) });
    const at = now();
    return c.json(page(result.items.map((k) => apiKeyDto(k, at)), q, result.total), 200);
  });

  registerRoute(app, getApiKeyRoute, async (c) => {
    const key = await getApiKey(deps.db, c.get('tenantId') ?? '', c.req.valid('param').id);
    return c.json({ data: apiKeyDto(key, now()) }, 200);
  });

  registerRoute(app, createApiKeyRoute, async (c) => {
    const body = c.req.valid('json');
    assertGrantable(c.get('scopes') ?? [], body.scopes);
    const expiresAt = expiryOf(body, deps.clock.now());
    const tenantId = c.get('tenantId') ?? '';
    const created = await inTransaction(deps.db, async (trx) => {
      const made = await createApiKey(trx, { tenantId, name: body.name, scopes: body.scopes, expiresAt });
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: made.apiKey.id,
        details: { name: body.name, scopes: body.scopes, expires_at: expiresAt },
      });
      return made;
    });
    // The key is in this body only: no cache may keep it, and idempotency stores it redacted.
    c.header('Cache-Control', 'no-store');
    return c.json({ data: { ...apiKeyDto(created.apiKey, now()), key: created.key } }, 201);
  });

  registerRoute(app, updateApiKeyRoute, async (c) => {
    const body = c.req.valid('json');
    if (body.scopes) assertGrantable(c.get('scopes') ?? [], body.scopes);
    const tenantId = c.get('tenantId') ?? '';
    const { id } = c.req.valid('param');
    const updated = await inTransaction(deps.db, async (trx) => {
      const before = await getApiKey(trx, tenantId, id);
      const after = await updateApiKey(trx, tenantId, id, body);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'api_key.updated',
        targetType: 'api_key',
        targetId: id,
        details: {
          ...(body.name !== undefined && { name: { from: before.name, to: after.name } }),
          ...(body.scopes !== undefined && { scopes: { from: before.scopes, to: after.scopes } }),
        },
      });
      return after;
    });
    return c.json({ data: apiKeyDto(updated, now()) }, 200);
  });
}
