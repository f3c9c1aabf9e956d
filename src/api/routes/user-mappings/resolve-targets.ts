import { findMappingTargets, type Db, type UserMappingInput } from '../../../store/index.js';
import { FieldError, type ErrorDetail } from '../../errors.js';
import type { MappingItem } from './user-mapping.schemas.js';

/**
 * Turns request items into store inputs, checking every reference against the caller's tenant in
 * three queries. Any item pointing at an extension or user the tenant does not have fails the
 * whole request with 422 `INVALID_REFERENCE`, listing each failing item and field — before
 * anything is written. `fieldPrefix(i)` names item i in the request (`mappings.3.` in a batch).
 */
export async function resolveMappingItems(
  db: Db,
  tenantId: string,
  items: readonly MappingItem[],
  fieldPrefix: (i: number) => string,
): Promise<UserMappingInput[]> {
  const targets = await findMappingTargets(db, tenantId, {
    extensionIds: items.flatMap((m) => (m.extension_id ? [m.extension_id] : [])),
    extensionNumbers: items.flatMap((m) => (m.extension_number ? [m.extension_number] : [])),
    userIds: items.flatMap((m) => (m.user_id ? [m.user_id] : [])),
  });
  const details: ErrorDetail[] = [];
  const inputs = items.map((m, i): UserMappingInput => {
    let extensionId: string | null = null;
    if (m.extension_id !== undefined) {
      if (targets.extensionIds.has(m.extension_id)) extensionId = m.extension_id;
      else details.push({ field: `${fieldPrefix(i)}extension_id`, issue: 'no such extension in this tenant' });
    } else if (m.extension_number !== undefined) {
      extensionId = targets.extensionByNumber.get(m.extension_number) ?? null;
      if (extensionId === null) details.push({ field: `${fieldPrefix(i)}extension_number`, issue: 'no such extension in this tenant' });
    }
    if (m.user_id !== undefined && !targets.userIds.has(m.user_id)) details.push({ field: `${fieldPrefix(i)}user_id`, issue: 'no such user in this tenant' });
    return {
      tenantId,
      externalSystem: m.external_system,
      externalUserId: m.external_user_id,
      extensionId,
      userId: m.user_id ?? null,
      displayName: m.display_name ?? null,
    };
  });
  if (details.length > 0) {
    throw new FieldError('INVALID_REFERENCE', `invalid reference: ${details.map((d) => d.field).join(', ')}`, details, 422);
  }
  return inputs;
}
