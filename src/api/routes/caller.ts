import type { Context } from 'hono';
import { SwitchboardError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';

/**
 * The caller's tenant, which auth has set on every non-public route. Throwing (rather than
 * defaulting) means a route registered as `public` by mistake cannot read or write any tenant.
 */
export function callerTenantId(c: Context<ApiEnv>): string {
  const tenantId = c.get('tenantId');
  if (!tenantId) throw new SwitchboardError('UNAUTHORIZED', 'credentials required', { httpStatus: 401 });
  return tenantId;
}

/** Domain names and IPv4 addresses phones can be pointed at (RFC 1123 labels). */
export const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** `tenant_external_id` as the seeds define it: letters, digits, `-` and `_`. */
export const EXTERNAL_ID = /^[A-Za-z0-9_-]{1,64}$/;
