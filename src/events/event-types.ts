import type { z } from 'zod';
import {
  CallAnsweredData,
  CallEndedData,
  CallHoldData,
  CallRingingData,
  CallStartData,
  CallTransferData,
} from './schemas/call-events.js';
import {
  ApiErrorData,
  ExtensionStatusData,
  RegistrationCreatedData,
  RegistrationExpiredData,
  SecurityBanData,
  TrunkStatusData,
  VoicemailReceivedData,
  WebhookTestData,
} from './schemas/other-events.js';

/**
 * The registry of public event types: name → schema of its `data`. Everything that names an event
 * type (webhook filters, WebSocket subscriptions, the published JSON Schema) reads it from here, so
 * a new type is one line and a typo in a filter is refused instead of silently matching nothing.
 */
export const EVENT_DATA_SCHEMAS = {
  'call.start': CallStartData,
  'call.ringing': CallRingingData,
  'call.answered': CallAnsweredData,
  'call.hold': CallHoldData,
  'call.unhold': CallHoldData,
  'call.transfer': CallTransferData,
  'call.ended': CallEndedData,
  'extension.status': ExtensionStatusData,
  'trunk.status': TrunkStatusData,
  'voicemail.received': VoicemailReceivedData,
  'api.error': ApiErrorData,
  'registration.created': RegistrationCreatedData,
  'registration.expired': RegistrationExpiredData,
  'security.ban': SecurityBanData,
  'webhook.test': WebhookTestData,
} as const;

export type EventType = keyof typeof EVENT_DATA_SCHEMAS;
export type EventData<T extends EventType> = z.output<(typeof EVENT_DATA_SCHEMAS)[T]>;

export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as EventType[];

/**
 * Types a filter may name. `webhook.test` is left out: a test event goes to the one endpoint being
 * tested whatever its filter says, and to nobody else.
 */
export const SUBSCRIBABLE_EVENT_TYPES = EVENT_TYPES.filter((t) => t !== 'webhook.test');

export function isEventType(name: string): name is EventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, name);
}

/** True if `type` is matched by `pattern`: the exact name, `*` (everything), or `prefix.*` (`call.*`). */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

const subscribable: ReadonlySet<string> = new Set(SUBSCRIBABLE_EVENT_TYPES);

/**
 * True if any pattern of `filter` matches `type`; an empty filter matches nothing, and no filter
 * (not even `*`) matches a type outside {@link SUBSCRIBABLE_EVENT_TYPES}, such as `webhook.test`.
 */
export function filterMatches(filter: readonly string[], type: string): boolean {
  return subscribable.has(type) && filter.some((p) => patternMatches(p, type));
}

/**
 * Why a filter pattern is not acceptable, or undefined if it is: it must be a known type, `*`, or a
 * `prefix.*` wildcard that matches at least one known type (so `cal.*` is refused, not ignored).
 */
export function filterPatternProblem(pattern: string): string | undefined {
  if (pattern === '*') return undefined;
  if (!/^[a-z]+(\.[a-z_]+)*(\.\*)?$/.test(pattern)) return `"${pattern}" is not an event type or a wildcard like call.*`;
  if (pattern.endsWith('.*')) {
    return SUBSCRIBABLE_EVENT_TYPES.some((t) => patternMatches(pattern, t)) ? undefined : `"${pattern}" matches no event type`;
  }
  return (SUBSCRIBABLE_EVENT_TYPES as string[]).includes(pattern) ? undefined : `"${pattern}" is not an event type (known: ${SUBSCRIBABLE_EVENT_TYPES.join(', ')})`;
}
