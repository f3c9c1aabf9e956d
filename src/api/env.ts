import type { Logger } from 'pino';

/** Who is calling: an API key, or a user's session token from `POST /api/v1/auth/login`. */
export type PrincipalType = 'api_key' | 'user';

/**
 * The per-request variables every API middleware and handler can rely on. Auth fills `tenantId`,
 * `principalId`, `principalType` and `scopes` on `/api/v1/*` routes that are not public;
 * idempotency and rate limiting key on them.
 */
export interface ApiVariables {
  requestId: string;
  log: Logger;
  tenantId?: string;
  /** The API key id, or the user id for a session token. */
  principalId?: string;
  principalType?: PrincipalType;
  /** The caller's scopes (`admin` implies every scope). */
  scopes?: readonly string[];
  /** The session id when the caller used a session token (logout ends it). */
  sessionId?: string;
}

/** The Hono `Env` of the Switchboard API app. */
export interface ApiEnv {
  Variables: ApiVariables;
}
