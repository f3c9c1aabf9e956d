import { filterMatches } from '../../events/event-types.js';
import { advanceWebhookCursors, enqueueDeliveries, getWebhookCursor, listOutboxEventsAfter, type Db, type Webhook } from '../../store/index.js';

/**
 * An endpoint being disabled keeps what it was already owed: the events of its tenant past its
 * cursor that its filter wants become pending deliveries (sent when it is enabled again, and kept
 * in the outbox until then), and the cursor moves past them — so what happens while it is disabled
 * is not sent to it (enabling starts it at the newest event), and its cursor holds nothing in the
 * outbox meanwhile. Runs in the transaction that disables it; returns how many were kept.
 */
export async function keepBacklogOfDisabled(trx: Db, webhook: Webhook, dueAt: string): Promise<number> {
  let cursor = await getWebhookCursor(trx, webhook.id);
  let kept = 0;
  for (;;) {
    const events = await listOutboxEventsAfter(trx, cursor, { tenantId: webhook.tenantId, limit: 1000 });
    const last = events.at(-1);
    if (!last) break;
    const owed = events
      .filter((e) => filterMatches(webhook.events, e.type))
      .map((e) => ({ webhookId: webhook.id, tenantId: webhook.tenantId, eventId: e.eventId, eventType: e.type, sequence: e.sequence, nextAttemptAt: dueAt }));
    kept += await enqueueDeliveries(trx, owed);
    cursor = last.sequence;
  }
  await advanceWebhookCursors(trx, new Map([[webhook.id, cursor]]));
  return kept;
}
