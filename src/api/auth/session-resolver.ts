import type { Clock } from '../../shared/clock.js';
import { findSessionByAccessToken, touchSession, type Db, type UserRole } from '../../store/index.js';
import type { BearerPrincipal } from '../api-key-auth.js';

const ACCESS_TOKEN = /^sbt_[0-9a-f]{48}$/;

/**
 * A user's scopes follow from the role: owners and admins administer the tenant; plain users may
 * read and use the session routes (every route a logged-in user may call needs `voip:read`).
 */
export function scopesForRole(role: UserRole): string[] {
  return role === 'user' ? ['voip:read'] : ['admin'];
}

/**
 * The `resolveBearer` of `apiKeyAuth`: maps a live `sbt_` access token to its user, tenant, scopes
 * and session. Anything else (wrong shape, unknown, expired, revoked) is undefined → the same 401
 * as a bad API key. Expiry is judged on `clock` (wall-clock ms), which tests can move.
 */
export function sessionBearerResolver(deps: { db: Db; clock: Clock }): (token: string) => Promise<BearerPrincipal | undefined> {
  return async (token) => {
    if (!ACCESS_TOKEN.test(token)) return undefined;
    const now = deps.clock.now();
    const found = await findSessionByAccessToken(deps.db, token, now);
    if (!found) return undefined;
    await touchSession(deps.db, found.session, now);
    return {
      type: 'user',
      id: found.session.userId,
      tenantId: found.session.tenantId,
      scopes: scopesForRole(found.role),
      sessionId: found.session.id,
    };
  };
}
