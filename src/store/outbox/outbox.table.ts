import type { Generated } from 'kysely';

/** Row shape of `outbox_events` (migration 0009_outbox). */
export interface OutboxEventTable {
  /** Autoincrement: the global order of events, and the WebSocket resume cursor. Generated on insert. */
  sequence: Generated<number>;
  event_id: string;
  tenant_id: string;
  type: string;
  occurred_at: string;
  /** `JSON.stringify(envelope)`, written once: the exact body every delivery attempt signs and sends. */
  envelope: string;
  created_at: string;
}
