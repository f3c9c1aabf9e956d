import type { CallNumbers, OutboxEvent } from '../../store/index.js';

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

/** The types whose CRM frame carries the call's numbers, which only call.start has. */
const NEEDS_CALL_FACTS = new Set(['call.ringing', 'call.answered']);

/**
 * call.ringing and call.answered carry only the call id; the numbers are in the call's call.start,
 * which precedes them in the outbox. Remembered for the last `max` calls (bounded memory). A reader
 * that did not see a call's call.start — a replay that starts after it, or a stream that had no
 * client (and so read nothing) when the call began — {@link fill}s the gap from the calls table.
 */
export class CallFactsCache {
  private readonly facts = new Map<string, CallFacts>();
  constructor(private readonly max = 10_000) {}

  learn(e: OutboxEvent): void {
    if (e.type !== 'call.start') return;
    const d = (JSON.parse(e.body) as { data: { call_id: string; direction: string; caller_number: string; callee_number: string } }).data;
    this.remember(d.call_id, { direction: d.direction, from: d.caller_number, to: d.callee_number });
  }

  /**
   * Looks up, in one query, the calls of a page's ringing/answered events that are neither known
   * nor started within the page itself. Called only when a CRM client will see the page.
   */
  async fill(rows: readonly OutboxEvent[], lookup: (callIds: string[]) => Promise<CallNumbers[]>): Promise<void> {
    const startedHere = new Set<string>();
    const missing = new Set<string>();
    for (const e of rows) {
      if (e.type === 'call.start') startedHere.add(callIdOf(e));
      else if (NEEDS_CALL_FACTS.has(e.type)) {
        const id = callIdOf(e);
        if (!startedHere.has(id) && !this.facts.has(id)) missing.add(id);
      }
    }
    if (missing.size === 0) return;
    for (const c of await lookup([...missing])) this.remember(c.id, { direction: c.direction, from: c.callerNumber, to: c.calleeNumber });
  }

  private remember(callId: string, facts: CallFacts): void {
    if (this.facts.size >= this.max) this.facts.delete(this.facts.keys().next().value as string);
    this.facts.set(callId, facts);
  }

  get(callId: string): CallFacts | undefined {
    return this.facts.get(callId);
  }
}

function callIdOf(e: OutboxEvent): string {
  return String((JSON.parse(e.body) as { data: { call_id?: unknown } }).data.call_id);
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
