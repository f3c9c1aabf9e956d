import {
  findPrimaryTenant,
  findUserForLogin,
  findUsersForLoginByEmail,
  type Db,
  type User,
} from '../../../store/index.js';
import { verifyAgainstDummy, verifyPassword } from '../../auth/password.js';

/**
 * The one account a login may be for. Emails are unique per tenant only: with a `tenant_id` the
 * lookup is in that tenant; without one, an email found in one tenant is that account, and an
 * email found in several is the primary tenant's (others must name their tenant).
 */
async function candidate(db: Db, email: string, tenantId: string | undefined): Promise<{ user: User; passwordHash: string } | undefined> {
  if (tenantId !== undefined) return findUserForLogin(db, tenantId, email);
  const matches = await findUsersForLoginByEmail(db, email);
  if (matches.length <= 1) return matches[0];
  const primary = await findPrimaryTenant(db);
  return matches.find((m) => m.user.tenantId === primary?.id);
}

/**
 * Checks a login. Exactly one scrypt verification runs whether or not the email exists (the
 * unknown case verifies against a dummy hash), so neither the answer nor its timing tells an
 * attacker which emails have accounts. `knownUser` is for the audit entry only.
 */
export async function checkLogin(
  db: Db,
  input: { email: string; password: string; tenantId?: string | undefined },
): Promise<{ user: User } | { user: undefined; knownUser: User | undefined }> {
  const found = await candidate(db, input.email, input.tenantId);
  if (!found) {
    await verifyAgainstDummy(input.password);
    return { user: undefined, knownUser: undefined };
  }
  if (await verifyPassword(input.password, found.passwordHash)) return { user: found.user };
  return { user: undefined, knownUser: found.user };
}
