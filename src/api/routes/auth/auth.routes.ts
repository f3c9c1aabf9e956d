import type { OpenAPIHono } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import { appendAudit, createSession, getUser, inTransaction, purgeExpiredSessions, revokeSession, rotateSession } from '../../../store/index.js';
import { prepareDummyHash } from '../../auth/password.js';
import { clientIp } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { userJson } from '../users/user.schemas.js';
import { LoginSchema, MeSchema, RefreshSchema, SessionTokensSchema, sessionBody } from './auth.schemas.js';
import { checkLogin } from './login.js';
import { requireSession } from './session-guard.js';

const tags = ['Auth'];

export const loginRoute = defineRoute({
  method: 'post', path: '/api/v1/auth/login', scope: 'public', tags,
  summary: 'Log in with email and password; answers a bearer session',
  description: 'Unknown email and wrong password get the same 401 INVALID_CREDENTIALS, in the same time.',
  request: { body: jsonBody(LoginSchema) },
  responses: { 200: jsonResponse(dataSchema(SessionTokensSchema), 'the session'), ...errorResponses([401]) },
});
export const refreshRoute = defineRoute({
  method: 'post', path: '/api/v1/auth/refresh', scope: 'public', tags,
  summary: 'Trade a refresh token for a new access and refresh token (the old ones stop working)',
  description: 'Presenting a refresh token that was already used revokes the whole session (token theft detection).',
  request: { body: jsonBody(RefreshSchema) },
  responses: { 200: jsonResponse(dataSchema(SessionTokensSchema), 'the renewed session'), ...errorResponses([401]) },
});
export const logoutRoute = defineRoute({
  method: 'post', path: '/api/v1/auth/logout', scope: 'voip:read', tags,
  summary: 'End the caller\'s session (session tokens only)',
  responses: { 204: noContent },
});
export const meRoute = defineRoute({
  method: 'get', path: '/api/v1/auth/me', scope: 'voip:read', tags,
  summary: 'Who is calling: the session\'s user, or the API key\'s id, tenant and scopes',
  responses: { 200: jsonResponse(dataSchema(MeSchema), 'the caller') },
});

const invalidRefresh = () => new SwitchboardError('INVALID_REFRESH_TOKEN', 'unknown, expired or revoked refresh token', { httpStatus: 401 });

export function registerSessionRoutes(app: OpenAPIHono<ApiEnv>, { db, clock }: ResourceDeps): void {
  prepareDummyHash();
  registerRoute(app, loginRoute, async (c) => {
    const body = c.req.valid('json');
    const ip = clientIp(c);
    const result = await checkLogin(db, { email: body.email, password: body.password, tenantId: body.tenant_id });
    const user = result.user;
    if (!user) {
      // Neither the email nor the password goes into the audit entry: a password typed into the
      // email field would otherwise be stored.
      const known = result.knownUser;
      await appendAudit(db, {
        tenantId: known?.tenantId ?? null, actorType: 'anonymous', actorId: null, ip,
        action: 'auth.login', result: 'failure', targetType: 'user', targetId: known?.id ?? null,
        details: { reason: 'invalid_credentials' },
      });
      throw new SwitchboardError('INVALID_CREDENTIALS', 'invalid email or password', { httpStatus: 401 });
    }
    const now = clock.now();
    const issued = await inTransaction(db, async (trx) => {
      const s = await createSession(trx, { tenantId: user.tenantId, userId: user.id, now, ip, userAgent: c.req.header('user-agent') ?? null });
      await appendAudit(trx, {
        tenantId: user.tenantId, actorType: 'user', actorId: user.id, ip,
        action: 'auth.login', result: 'success', targetType: 'session', targetId: s.session.id,
      });
      return s;
    });
    // Housekeeping off the hot path: logins are rare next to authenticated requests.
    await purgeExpiredSessions(db, now).catch((err: unknown) => c.get('log').warn({ err }, 'could not purge expired sessions'));
    return c.json(sessionBody(c, issued, user, now), 200);
  });

  registerRoute(app, refreshRoute, async (c) => {
    const { refresh_token: refreshToken } = c.req.valid('json');
    const now = clock.now();
    const ip = clientIp(c);
    const result = await inTransaction(db, async (trx) => {
      const r = await rotateSession(trx, refreshToken, now);
      if (r.kind === 'invalid') return r;
      const actor = { tenantId: r.session.tenantId, actorType: 'user', actorId: r.session.userId, ip } as const;
      if (r.kind === 'reused') {
        await appendAudit(trx, { ...actor, action: 'auth.refresh_reuse', result: 'failure', targetType: 'session', targetId: r.session.id, details: { session_revoked: true } });
        return r;
      }
      await appendAudit(trx, { ...actor, action: 'auth.refresh', targetType: 'session', targetId: r.session.id });
      return { ...r, user: await getUser(trx, r.session.tenantId, r.session.userId) };
    });
    // A reused token is answered like an unknown one: the thief learns nothing, the session is gone.
    if (result.kind !== 'rotated') throw invalidRefresh();
    return c.json(sessionBody(c, result, result.user, now), 200);
  });

  registerRoute(app, logoutRoute, async (c) => {
    const sessionId = requireSession(c);
    await inTransaction(db, async (trx) => {
      await revokeSession(trx, sessionId, clock.now());
      await appendAudit(trx, { tenantId: callerTenantId(c), actorType: 'user', actorId: c.get('principalId') ?? null, ip: clientIp(c), action: 'auth.logout', targetType: 'session', targetId: sessionId });
    });
    return c.body(null, 204);
  });

  registerRoute(app, meRoute, async (c) => {
    const tenantId = callerTenantId(c);
    const id = c.get('principalId') ?? '';
    const scopes = [...(c.get('scopes') ?? [])];
    if (c.get('principalType') === 'user') {
      const user = await getUser(db, tenantId, id);
      const sessionId = c.get('sessionId');
      return c.json({ data: { type: 'user' as const, id, tenant_id: tenantId, scopes, user: userJson(user), ...(sessionId && { session: { id: sessionId } }) } }, 200);
    }
    return c.json({ data: { type: 'api_key' as const, id, tenant_id: tenantId, scopes } }, 200);
  });
}
