import type { Context } from 'hono';
import { SwitchboardError } from '../../../shared/errors.js';
import type { ApiEnv } from '../../env.js';

/**
 * The caller's session id; routes about "my session" or "my password" make no sense for an API
 * key, which gets 403 SESSION_REQUIRED rather than acting on some user.
 */
export function requireSession(c: Context<ApiEnv>): string {
  const sessionId = c.get('sessionId');
  if (c.get('principalType') !== 'user' || !sessionId) {
    throw new SwitchboardError('SESSION_REQUIRED', 'this route needs a user session (log in), not an API key', { httpStatus: 403 });
  }
  return sessionId;
}
