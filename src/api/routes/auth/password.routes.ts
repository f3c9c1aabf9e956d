import type { OpenAPIHono } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import {
  appendAudit,
  consumePasswordResetToken,
  createPasswordResetToken,
  getUser,
  getUserPasswordHash,
  inTransaction,
  revokeUserSessions,
  updateUser,
} from '../../../store/index.js';
import { hashPassword, verifyPassword } from '../../auth/password.js';
import { auditActor, clientIp } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { errorResponse } from '../../errors.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { assertMayManage } from '../users/user-guards.js';
import { ChangePasswordSchema, ResetPasswordSchema, ResetTokenSchema } from './auth.schemas.js';
import { requireSession } from './session-guard.js';

export const changePasswordRoute = defineRoute({
  method: 'post', path: '/api/v1/auth/password', scope: 'voip:read', tags: ['Auth'],
  summary: 'Change one\'s own password (ends one\'s other sessions)',
  request: { body: jsonBody(ChangePasswordSchema) },
  responses: { 204: noContent },
});
export const issueResetRoute = defineRoute({
  method: 'post', path: '/api/v1/users/{id}/password-reset', scope: 'admin', tags: ['Users'],
  summary: 'Issue a one-time password-reset token for a user (valid 1 h, shown once)',
  request: { params: IdParams },
  responses: { 201: jsonResponse(dataSchema(ResetTokenSchema), 'the token'), ...errorResponses([404]) },
});
export const resetPasswordRoute = defineRoute({
  method: 'post', path: '/api/v1/auth/password-reset', scope: 'public', tags: ['Auth'],
  summary: 'Set a new password with a reset token (works once; ends every session of the user)',
  request: { body: jsonBody(ResetPasswordSchema) },
  responses: { 204: noContent },
});

export function registerPasswordRoutes(app: OpenAPIHono<ApiEnv>, { db, clock }: ResourceDeps): void {
  registerRoute(app, changePasswordRoute, async (c) => {
    const sessionId = requireSession(c);
    const tenantId = callerTenantId(c);
    const userId = c.get('principalId') ?? '';
    const body = c.req.valid('json');
    if (!(await verifyPassword(body.current_password, await getUserPasswordHash(db, tenantId, userId)))) {
      return errorResponse(c, 400, 'INVALID_CURRENT_PASSWORD', 'the current password is wrong', {
        details: [{ field: 'current_password', issue: 'does not match' }],
      });
    }
    const passwordHash = await hashPassword(body.new_password);
    await inTransaction(db, async (trx) => {
      await updateUser(trx, tenantId, userId, { passwordHash });
      // Other sessions may be an attacker's who knew the old password; the caller's own stays.
      const revoked = await revokeUserSessions(trx, userId, clock.now(), sessionId);
      await appendAudit(trx, { ...auditActor(c), action: 'user.password_changed', targetType: 'user', targetId: userId, details: { sessions_revoked: revoked } });
    });
    return c.body(null, 204);
  });

  registerRoute(app, issueResetRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    const issued = await inTransaction(db, async (trx) => {
      const user = await getUser(trx, tenantId, id);
      // Resetting an owner's password would let an admin take the owner's account.
      await assertMayManage(c, trx, tenantId, [user]);
      const token = await createPasswordResetToken(trx, { tenantId, userId: id, now: clock.now() });
      await appendAudit(trx, { ...auditActor(c), action: 'user.password_reset_issued', targetType: 'user', targetId: id, details: { expires_at: token.expiresAt } });
      return token;
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ data: { token: issued.token, expires_at: issued.expiresAt } }, 201);
  });

  registerRoute(app, resetPasswordRoute, async (c) => {
    const body = c.req.valid('json');
    const passwordHash = await hashPassword(body.new_password);
    const now = clock.now();
    const done = await inTransaction(db, async (trx) => {
      const owner = await consumePasswordResetToken(trx, body.token, now);
      if (!owner) return false;
      await updateUser(trx, owner.tenantId, owner.userId, { passwordHash });
      // Whoever holds a session from before the reset loses it: the reset is how one locks them out.
      const revoked = await revokeUserSessions(trx, owner.userId, now);
      await appendAudit(trx, {
        tenantId: owner.tenantId, actorType: 'user', actorId: owner.userId, ip: clientIp(c),
        action: 'user.password_reset', targetType: 'user', targetId: owner.userId, details: { sessions_revoked: revoked },
      });
      return true;
    });
    if (!done) throw new SwitchboardError('INVALID_RESET_TOKEN', 'unknown, expired or already used reset token', { httpStatus: 400 });
    return c.body(null, 204);
  });
}
