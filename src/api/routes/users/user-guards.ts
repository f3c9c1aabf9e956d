import type { Context } from 'hono';
import { SwitchboardError } from '../../../shared/errors.js';
import { countOwners, getUser, type Db, type User, type UserRole } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';

/**
 * A tenant always keeps one owner: without one nobody could manage owners or recover the tenant
 * from the UI. Checked inside the caller's transaction so two concurrent demotions cannot both pass.
 */
export async function assertNotLastOwner(trx: Db, user: User, nextRole: UserRole | undefined): Promise<void> {
  if (user.role !== 'owner' || nextRole === 'owner') return;
  if ((await countOwners(trx, user.tenantId)) <= 1) {
    throw new SwitchboardError('LAST_OWNER', 'the last owner of a tenant cannot be deleted or demoted', { httpStatus: 409 });
  }
}

/**
 * Owner accounts are managed by owners (and API keys, which the owner issued): an `admin` user
 * must not make itself or others owner, nor remove one.
 */
export async function assertMayManage(c: Context<ApiEnv>, db: Db, tenantId: string, target: { role: UserRole }[]): Promise<void> {
  if (c.get('principalType') !== 'user' || !target.some((t) => t.role === 'owner')) return;
  const caller = await getUser(db, tenantId, c.get('principalId') ?? '');
  if (caller.role !== 'owner') {
    throw new SwitchboardError('FORBIDDEN', 'only an owner may create, change or delete owners', { httpStatus: 403 });
  }
}
