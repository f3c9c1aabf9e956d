import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { appendOutboxEvents, countLiveRegistrations, type Registration } from '../../store/index.js';
import { RegistrationOutbox } from './registration-outbox.js';

/**
 * The events of bindings removed outside the registrar — through the API: force-unregister, a
 * disabled or deleted extension, new credentials — appended in the caller's transaction, right
 * after the rows were deleted, so they exist exactly when the removal committed (like the
 * registrar's own). Each live binding gives `registration.expired` with reason `removed` and the
 * `extension.status` it causes (unregistered when it was the extension's last live binding), made
 * by the registrar's {@link RegistrationOutbox}, reading through the transaction.
 *
 * "Live" is the store's view at `now` (what the registrations API shows): a row already past its
 * stored expiry gets no event. The registrar, which drops API-removed bindings from memory without
 * events of its own (its resync), does not report them twice. Returns how many events were
 * appended; when any were, the caller wakes the dispatcher and the stream after the commit.
 */
/** An open transaction (what `inTransaction` hands its callback). */
type Trx = Parameters<typeof appendOutboxEvents>[0];

export async function appendRegistrationRemovals(
  trx: Trx,
  removed: readonly Registration[],
  opts: { clock: Clock; log: Logger; now: string },
): Promise<number> {
  const live = removed.filter((r) => r.expiresAt > opts.now);
  if (live.length === 0) return 0;
  const tenantId = live[0]!.tenantId;
  // Already deleted: what was live before is what is left plus what went.
  const left = await countLiveRegistrations(trx, tenantId, live.map((r) => r.extensionId), opts.now);
  const liveBefore = (extensionId: string): number => (left.get(extensionId) ?? 0) + live.filter((r) => r.extensionId === extensionId).length;
  const bindings = live.map((r) => ({ ...r, expiresAtMs: Date.parse(r.expiresAt), storedExpiresAtMs: Date.parse(r.expiresAt) }));
  const events = await new RegistrationOutbox({ db: trx, clock: opts.clock, log: opts.log }).ended(bindings, 'removed', liveBefore);
  await appendOutboxEvents(trx, events);
  return events.length;
}
