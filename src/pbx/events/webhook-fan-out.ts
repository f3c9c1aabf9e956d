import { filterMatches } from '../../events/event-types.js';
import { enqueueDeliveries, inTransaction, listEnabledWebhooks, listUndispatchedEvents, markEventsDispatched, type Db } from '../../store/index.js';

/**
 * Fans outbox events out to webhooks: for each event not yet dispatched, one pending delivery per
 * enabled endpoint of its tenant whose filter matches, and the event marked dispatched — in one
 * transaction per batch, so a crash leaves the batch either wholly done or wholly to do (and doing
 * it twice is harmless: enqueueing skips existing pairs). Returns how many events it handled.
 *
 * The batch commits without an fsync (`process-crash` durability): the events themselves are
 * already stored, and a batch lost to a power cut is only fanned out again — while an fsync per
 * wake-up (every call state change wakes the dispatcher) was most of the dispatcher's cost.
 */
export async function fanOutOutbox(db: Db, now: number, batch = 200): Promise<number> {
  let handled = 0;
  for (;;) {
    const events = await listUndispatchedEvents(db, batch);
    if (events.length === 0) return handled;
    const hooks = await listEnabledWebhooks(db);
    const at = new Date(now).toISOString();
    const owed = events.flatMap((e) =>
      hooks
        .filter((h) => h.tenantId === e.tenantId && filterMatches(h.events, e.type))
        .map((h) => ({ webhookId: h.id, tenantId: h.tenantId, eventId: e.eventId, eventType: e.type, sequence: e.sequence, nextAttemptAt: at })),
    );
    await inTransaction(db, async (trx) => {
      // Multi-row inserts for the whole batch (enqueueDeliveries chunks them under SQLite's variable limit).
      await enqueueDeliveries(trx, owed);
      await markEventsDispatched(trx, events.map((e) => e.sequence), at);
    }, 'process-crash');
    handled += events.length;
    if (events.length < batch) return handled;
  }
}
