import { z } from 'zod';
import { filterPatternProblem } from '../../events/event-types.js';

/** Which names events are sent under: ours (the webhook envelope) or the CRM bridge's alias set. */
export type NameSet = 'native' | 'crm';

/**
 * A resume cursor: the outbox `sequence` a client last saw (a number, or digits as text from a
 * query string), or the envelope `id` of the last event it saw (looked up in the outbox).
 */
export type Cursor = { sequence: number } | { eventId: string };

const cursor = z.union([z.number().int().nonnegative(), z.string().min(1).max(100)]);

const Subscribe = z.object({
  type: z.literal('subscribe'),
  events: z.array(z.string().max(100)).max(50).optional(),
  since: cursor.optional(),
  names: z.enum(['native', 'crm']).optional(),
});
const Unsubscribe = z.object({ type: z.literal('unsubscribe') });
const ClientMessage = z.discriminatedUnion('type', [Subscribe, Unsubscribe]);

export type ClientMessage =
  | { type: 'subscribe'; events?: string[]; since?: Cursor; names?: NameSet }
  | { type: 'unsubscribe' };

/** What the connect URL asks for (`?events=call.*,voicemail.*&since=…&names=crm`), applied as a first subscribe. */
export type ConnectRequest = Extract<ClientMessage, { type: 'subscribe' }>;

/** A message the server answers with instead of acting (the connection stays open). */
export interface ProtocolError {
  code: 'BAD_MESSAGE' | 'BAD_FILTER' | 'CURSOR_NOT_FOUND';
  message: string;
}

export function toCursor(value: number | string): Cursor {
  if (typeof value === 'number') return { sequence: value };
  return /^\d{1,15}$/.test(value) ? { sequence: Number(value) } : { eventId: value };
}

/** The first problem of a filter, if any (unknown types are refused rather than matching nothing). */
export function filterProblem(events: readonly string[]): string | undefined {
  for (const p of events) {
    const problem = filterPatternProblem(p);
    if (problem) return problem;
  }
  return undefined;
}

/** Parses one client frame; malformed JSON, unknown types and bad filters come back as errors, never throws. */
export function parseClientMessage(text: string): ClientMessage | ProtocolError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: 'BAD_MESSAGE', message: 'not JSON' };
  }
  const parsed = ClientMessage.safeParse(value);
  if (!parsed.success) return { code: 'BAD_MESSAGE', message: `expected {"type":"subscribe"|"unsubscribe",…}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  const m = parsed.data;
  if (m.type === 'unsubscribe') return m;
  const problem = m.events && filterProblem(m.events);
  if (problem) return { code: 'BAD_FILTER', message: problem };
  return { type: 'subscribe', ...(m.events && { events: m.events }), ...(m.since !== undefined && { since: toCursor(m.since) }), ...(m.names && { names: m.names }) };
}

export const isProtocolError = (m: ClientMessage | ProtocolError): m is ProtocolError => 'code' in m;

/**
 * An event frame in native names. The envelope is spliced in as the outbox stored it, byte for byte
 * what webhooks get (and no JSON re-serialisation per client).
 */
export const nativeEventFrame = (sequence: number, body: string): string => `{"type":"event","sequence":${sequence},"event":${body}}`;

export const errorFrame = (e: ProtocolError): string => JSON.stringify({ type: 'error', ...e });
