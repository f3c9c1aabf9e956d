import type { Context } from 'hono';
import { appendRegistrationRemovals } from '../../../pbx/events/registration-removals.js';
import { deleteRegistrationById, deleteRegistrationsOfExtension, type Registration } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { nowIsoOf } from './extension.view.js';

/** An open transaction (what `inTransaction` hands its callback). */
type Trx = Parameters<typeof appendRegistrationRemovals>[0];

/** What was removed, and how many events say so (the caller wakes the readers after the commit when any). */
export interface BindingRemoval {
  removed: Registration[];
  events: number;
}

/**
 * Removes bindings through the API and writes their events in the same transaction:
 * `registration.expired` (reason `removed`) per live binding and the `extension.status` each
 * causes — as the registrar does for bindings that end over SIP. `target` is one binding (by id,
 * within the tenant: force-unregister) or all of an extension's (disabled, deleted, new credentials).
 */
export async function removeBindings(
  trx: Trx,
  c: Context<ApiEnv>,
  deps: ResourceDeps,
  target: { registrationId: string; tenantId: string } | { extensionId: string },
): Promise<BindingRemoval> {
  const removed = 'registrationId' in target
    ? [await deleteRegistrationById(trx, target.tenantId, target.registrationId)]
    : await deleteRegistrationsOfExtension(trx, target.extensionId);
  const events = await appendRegistrationRemovals(trx, removed, { clock: deps.clock, log: c.get('log'), now: nowIsoOf(deps) });
  return { removed, events };
}

/** After the commit: the dispatcher and the `/ws` stream read the new events now rather than at their next poll. */
export function wakeEventReaders(deps: ResourceDeps, removal: BindingRemoval | undefined): void {
  if (removal && removal.events > 0) deps.webhookDispatch?.wake();
}
