import { SwitchboardError } from '../shared/errors.js';
import type { Db } from './database.js';

/**
 * A tenant's dial space: extensions and ring groups share it, because the dialplan looks a dialled
 * number up in both and must never find two owners. Each table's unique constraint covers itself;
 * this covers one table against the other, checked inside the writer's transaction (one SQLite
 * connection serialises transactions, so no write slips between the check and the insert).
 */
export type DialNumberOwner = { kind: 'extension' | 'ring_group'; id: string };

/** Who holds `number` in the tenant, if anyone. */
export async function dialNumberOwner(db: Db, tenantId: string, number: string): Promise<DialNumberOwner | undefined> {
  const ext = await db.selectFrom('extensions').select('id').where('tenant_id', '=', tenantId).where('number', '=', number).executeTakeFirst();
  if (ext) return { kind: 'extension', id: ext.id };
  const group = await db.selectFrom('ring_groups').select('id').where('tenant_id', '=', tenantId).where('number', '=', number).executeTakeFirst();
  if (group) return { kind: 'ring_group', id: group.id };
  return undefined;
}

/**
 * Throws `CONFLICT` (409, as the unique constraints do through db-errors.ts) when `number` is held
 * by anything other than `self`, so API routes map both failures the same way.
 */
export async function assertDialNumberFree(db: Db, tenantId: string, number: string, self?: DialNumberOwner): Promise<void> {
  const owner = await dialNumberOwner(db, tenantId, number);
  if (owner === undefined || (self !== undefined && owner.kind === self.kind && owner.id === self.id)) return;
  const what = owner.kind === 'extension' ? 'an extension' : 'a ring group';
  throw new SwitchboardError('CONFLICT', `number ${number} is already used by ${what}`, { httpStatus: 409 });
}
