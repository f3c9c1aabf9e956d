import type { Context } from 'hono';
import { SwitchboardError } from '../../../shared/errors.js';
import { findPrimaryTenant, type Db } from '../../../store/index.js';
import { hasScope } from '../../api-key-auth.js';
import type { ApiEnv } from '../../env.js';
import { callerTenantId } from '../caller.js';

/** What a caller may do with tenants: its own always; all of them if it is an admin of the primary tenant. */
export interface TenantAccess {
  tenantId: string;
  primaryTenantId: string | undefined;
  /** An `admin` caller of the primary (first) tenant: manages every tenant. */
  manageAll: boolean;
}

export async function tenantAccess(c: Context<ApiEnv>, db: Db): Promise<TenantAccess> {
  const tenantId = callerTenantId(c);
  const primary = await findPrimaryTenant(db);
  const manageAll = primary?.id === tenantId && hasScope(c.get('scopes') ?? [], 'admin');
  return { tenantId, primaryTenantId: primary?.id, manageAll };
}

export function tenantNotFound(id: string): SwitchboardError {
  return new SwitchboardError('TENANT_NOT_FOUND', `tenant ${id} not found`, { httpStatus: 404 });
}

/**
 * Refuses (404, as if it did not exist) a tenant the caller may not see, so callers of other
 * tenants cannot even learn which tenant ids exist.
 */
export function assertVisible(access: TenantAccess, id: string): void {
  if (!access.manageAll && id !== access.tenantId) throw tenantNotFound(id);
}

/** Creating or deleting tenants is the primary tenant's admins' business alone. */
export function assertManageAll(access: TenantAccess, what: string): void {
  if (!access.manageAll) {
    throw new SwitchboardError('FORBIDDEN', `only an admin of the primary tenant may ${what}`, { httpStatus: 403 });
  }
}
