import type { Logger } from 'pino';

/**
 * The per-request variables every API middleware and handler can rely on. Auth (not built yet) fills
 * `tenantId` and `principalId`; idempotency and rate limiting key on them, so they fall back to
 * anonymous scopes until then.
 */
export interface ApiVariables {
  requestId: string;
  log: Logger;
  tenantId?: string;
  principalId?: string;
}

/** The Hono `Env` of the Switchboard API app. */
export interface ApiEnv {
  Variables: ApiVariables;
}
