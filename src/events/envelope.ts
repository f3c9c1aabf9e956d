import { z } from 'zod';
import { SwitchboardError } from '../shared/errors.js';
import { uuidv7 } from '../shared/ids.js';
import { EVENT_DATA_SCHEMAS, EVENT_TYPES, type EventData, type EventType } from './event-types.js';

/**
 * The one envelope every event travels in, to webhooks and to the WebSocket alike (issue 5 §1).
 * `id` is stable: it is made once when the event happens and sent unchanged on every retry and
 * replay, so receivers de-duplicate by it (it is also Standard Webhooks' `webhook-id`).
 */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  tenant_id: string;
  /** The integrator's id of the tenant (`tenant_external_id`), null when none is set. */
  tenant_external_id: string | null;
  /** When it happened (ISO-8601 UTC); not when it was sent. */
  timestamp: string;
  data: EventData<T>;
}

/** The envelope of one event type, as a zod schema (`type` is the literal name). */
export function envelopeSchema<T extends EventType>(type: T) {
  return z.object({
    id: z.uuid(),
    type: z.literal(type),
    tenant_id: z.string().min(1),
    tenant_external_id: z.string().nullable(),
    timestamp: z.iso.datetime({ offset: true }),
    data: EVENT_DATA_SCHEMAS[type],
  });
}

/** Every envelope, told apart by `type`; what the published JSON Schema is made from. */
export const AnyEventEnvelope = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((t) => envelopeSchema(t)) as unknown as [ReturnType<typeof envelopeSchema<EventType>>, ...ReturnType<typeof envelopeSchema<EventType>>[]],
);

/**
 * Builds an event, checking `data` against its type's schema: a producer that sends a malformed
 * payload fails here, where the bug is, rather than in every integrator's receiver. Unknown keys in
 * `data` are dropped (zod's default), so internal fields cannot leak out by accident.
 */
export function makeEvent<T extends EventType>(
  type: T,
  input: { tenantId: string; tenantExternalId: string | null; data: EventData<T>; at?: Date | string; id?: string },
): EventEnvelope<T> {
  const parsed = EVENT_DATA_SCHEMAS[type].safeParse(input.data);
  if (!parsed.success) {
    throw new SwitchboardError('EVENT_INVALID', `${type} data does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const at = input.at ?? new Date();
  return {
    id: input.id ?? uuidv7(),
    type,
    tenant_id: input.tenantId,
    tenant_external_id: input.tenantExternalId,
    timestamp: typeof at === 'string' ? new Date(at).toISOString() : at.toISOString(),
    data: parsed.data as EventData<T>,
  };
}

/**
 * Parses an envelope read back from storage (the outbox) or received; throws `EVENT_INVALID` when it
 * is not one of ours.
 */
export function parseEvent(value: unknown): EventEnvelope {
  const parsed = AnyEventEnvelope.safeParse(value);
  if (!parsed.success) throw new SwitchboardError('EVENT_INVALID', `not a valid event envelope: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as EventEnvelope;
}
