import { SwitchboardError } from '../../../shared/errors.js';
import { extensionNumbers, getSite, type Db, type RingGroup, type RingGroupFields } from '../../../store/index.js';
import { FieldError, type ErrorDetail } from '../../errors.js';
import type { CreateRingGroupInput, RingGroupView, UpdateRingGroupInput } from './ring-group.schemas.js';

/**
 * Mapping between the API's snake_case shapes and the store's, and the checks zod cannot make:
 * references into the caller's tenant (members, site) and the shared dial space.
 */

/** Views of groups of one tenant; member numbers come from one query for all of them. */
export async function ringGroupViews(db: Db, tenantId: string, groups: RingGroup[]): Promise<RingGroupView[]> {
  const numbers = await extensionNumbers(db, tenantId, groups.flatMap((g) => g.members.map((m) => m.extensionId)));
  return groups.map((g) => ({
    id: g.id,
    number: g.number,
    name: g.name,
    description: g.description,
    strategy: g.strategy,
    ring_timeout_seconds: g.ringTimeoutSeconds,
    member_timeout_seconds: g.memberTimeoutSeconds,
    fallback_number: g.fallbackNumber,
    site_id: g.siteId,
    members: g.members.map((m) => ({ extension_id: m.extensionId, number: numbers.get(m.extensionId) ?? '', priority: m.priority, timeout_seconds: m.timeoutSeconds })),
    last_answered_extension_id: g.lastAnsweredExtensionId,
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  }));
}

export async function ringGroupView(db: Db, tenantId: string, group: RingGroup): Promise<RingGroupView> {
  const [view] = await ringGroupViews(db, tenantId, [group]);
  if (!view) throw new Error('unreachable: one group in, one view out');
  return view;
}

/** A body in the store's terms; the number is passed on as given. */
export function ringGroupFields(body: UpdateRingGroupInput): RingGroupFields {
  return {
    ...(body.number !== undefined && { number: body.number }),
    ...(body.name !== undefined && { name: body.name }),
    ...(body.description !== undefined && { description: body.description }),
    ...(body.strategy !== undefined && { strategy: body.strategy }),
    ...(body.ring_timeout_seconds !== undefined && { ringTimeoutSeconds: body.ring_timeout_seconds }),
    ...(body.member_timeout_seconds !== undefined && { memberTimeoutSeconds: body.member_timeout_seconds }),
    ...(body.fallback_number !== undefined && { fallbackNumber: body.fallback_number }),
    ...(body.site_id !== undefined && { siteId: body.site_id }),
    ...(body.members !== undefined && {
      members: body.members.map((m) => ({
        extensionId: m.extension_id,
        ...(m.priority !== undefined && { priority: m.priority }),
        ...(m.timeout_seconds !== undefined && { timeoutSeconds: m.timeout_seconds }),
      })),
    }),
  };
}

/**
 * Every reference a body makes must be the caller tenant's: each member an extension of it, the
 * site one of its sites. All failures in one 422 `INVALID_REFERENCE`, each naming its field
 * (`members.2.extension_id`), before anything is written. A fallback equal to the group's own
 * number would ring the group again forever, so it is refused too.
 */
export async function checkReferences(
  db: Db,
  tenantId: string,
  body: CreateRingGroupInput | UpdateRingGroupInput,
  /** Number and fallback as they will be after the write (a PATCH may change either). */
  after: { number: string; fallbackNumber: string | null },
): Promise<void> {
  const details: ErrorDetail[] = [];
  if (body.members !== undefined && body.members.length > 0) {
    const found = await extensionNumbers(db, tenantId, body.members.map((m) => m.extension_id));
    body.members.forEach((m, i) => {
      if (!found.has(m.extension_id)) details.push({ field: `members.${i}.extension_id`, issue: 'no such extension in this tenant' });
    });
  }
  if (body.site_id !== undefined && body.site_id !== null) {
    try {
      await getSite(db, tenantId, body.site_id);
    } catch (err) {
      if (!(err instanceof SwitchboardError && err.code === 'SITE_NOT_FOUND')) throw err;
      details.push({ field: 'site_id', issue: 'no such site in this tenant' });
    }
  }
  if ((body.fallback_number !== undefined || body.number !== undefined) && after.fallbackNumber === after.number) {
    details.push({ field: body.fallback_number !== undefined ? 'fallback_number' : 'number', issue: "the fallback is the group's own number: it would ring the group again" });
  }
  if (details.length > 0) throw new FieldError('INVALID_REFERENCE', `invalid reference: ${details.map((d) => d.field).join(', ')}`, details, 422);
}

/** Runs a write; the store's `CONFLICT` is always the number (held by an extension or another group). */
export async function withNumberConflict<T>(number: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'CONFLICT') {
      throw new FieldError('RING_GROUP_NUMBER_TAKEN', `number ${number ?? ''} is already in use: ${err.message}`, [{ field: 'number', issue: err.message }], 409);
    }
    throw err;
  }
}
