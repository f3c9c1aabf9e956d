import type { OutboxEvent } from '../../store/index.js';

/**
 * The CRM bridge's event names (seeds/crm-bridge-api.md) over ours. A CRM client reads a flat
 * message with `event`, `call_id`, `from_number`, `to_number`, `status`…; we add `id` and `sequence`
 * so it can de-duplicate and resume like any other client.
 */
export const CRM_ALIASES: Readonly<Record<string, string>> = {
  'call.ringing': 'call.ring',
  'call.answered': 'call.started',
  'call.ended': 'call.ended',
  'voicemail.received': 'voicemail.received',
};

/** The filter a CRM client gets when it names none. */
export const CRM_EVENT_TYPES = Object.keys(CRM_ALIASES);

const STATUS: Readonly<Record<string, string>> = { 'call.ring': 'ringing', 'call.started': 'active', 'call.ended': 'ended' };

interface CallFacts {
  direction: string;
  from: string;
  to: string;
}

/**
 * call.ringing and call.answered carry only the call id; the numbers are in the call's call.start,
 * which precedes them in the outbox. Remembered for the last `max` calls (bounded memory): a replay
 * that starts after a call's call.start sends nulls for its numbers.
 */
export class CallFactsCache {
  private readonly facts = new Map<string, CallFacts>();
  constructor(private readonly max = 10_000) {}

  learn(e: OutboxEvent): void {
    if (e.type !== 'call.start') return;
    const d = (JSON.parse(e.body) as { data: { call_id: string; direction: string; caller_number: string; callee_number: string } }).data;
    if (this.facts.size >= this.max) this.facts.delete(this.facts.keys().next().value as string);
    this.facts.set(d.call_id, { direction: d.direction, from: d.caller_number, to: d.callee_number });
  }

  get(callId: string): CallFacts | undefined {
    return this.facts.get(callId);
  }
}

/** The CRM frame of an event, or undefined when the alias set has no name for its type. */
export function crmEventFrame(e: OutboxEvent, calls: CallFactsCache): string | undefined {
  const name = CRM_ALIASES[e.type];
  if (!name) return undefined;
  const env = JSON.parse(e.body) as { id: string; timestamp: string; data: Record<string, unknown> };
  const d = env.data;
  const base = { event: name, id: env.id, sequence: e.sequence };
  if (name === 'voicemail.received') {
    return JSON.stringify({
      ...base, voicemail_id: d.voicemail_id, call_id: d.call_id, from_number: d.from_number, to_number: d.to_number,
      duration_seconds: d.duration_seconds, target_crm_user: d.target_crm_user ?? null, user_id: d.extension_id, timestamp: env.timestamp,
    });
  }
  const call = calls.get(String(d.call_id));
  const ended = name === 'call.ended';
  return JSON.stringify({
    ...base,
    call_id: d.call_id,
    direction: ended ? d.direction : call?.direction ?? null,
    from_number: ended ? d.caller_number : call?.from ?? null,
    to_number: ended ? d.callee_number : call?.to ?? null,
    status: STATUS[name],
    ...(ended && { duration_seconds: d.duration_seconds }),
    // The seed's user is the one whose phone rings/answered; ours is the extension id.
    user_id: d.extension_id ?? d.answered_extension_id ?? null,
    timestamp: env.timestamp,
  });
}
