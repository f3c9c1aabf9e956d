import { z } from '@hono/zod-openapi';
import type { LiveCallView } from '../../../pbx/calls/call-service.js';

/**
 * Shapes of the live-calls resource (issue 4 §7). Live calls are in memory, owned by the call
 * service: what is shown is a snapshot at the time of the request, hold included (from the
 * call.hold/unhold the SIP side reports for phones' re-INVITEs and for the API's own hold).
 */

const STATES = ['initiated', 'ringing', 'answered'] as const;

const PartySchema = z.object({
  number: z.string(),
  name: z.string().nullable(),
  extension_id: z.string().nullable(),
});

const LegSchema = z.object({
  role: z.enum(['caller', 'callee']),
  number: z.string(),
  name: z.string().nullable(),
  extension_id: z.string().nullable().openapi({ description: 'On the callee leg: the extension that answered once one has (a forward target or ring-group member), else the one dialled' }),
});

export const LiveCallSchema = z
  .object({
    id: z.uuid(),
    direction: z.enum(['internal', 'inbound', 'outbound']),
    state: z.enum(STATES),
    caller: PartySchema,
    callee: PartySchema.openapi({ description: 'The party dialled' }),
    answered_extension_id: z.string().nullable(),
    started_at: z.string(),
    answered_at: z.string().nullable(),
    on_hold: z.boolean(),
    held_by: z.array(z.enum(['caller', 'callee', 'api'])).openapi({ description: "Who holds the call: a party's phone, or the API (`POST /calls/{id}/hold`); empty when nobody does" }),
    legs: z.array(LegSchema),
  })
  .openapi('LiveCall');
export type LiveCallJson = z.infer<typeof LiveCallSchema>;

/** A number as dialled: digits, `*`, `#`, an optional leading `+`. */
const Dialable = z.string().regex(/^\+?[0-9*#]{1,32}$/, 'a number as dialled: digits, * or #, optional leading +');

export const OriginateBody = z
  .strictObject({
    extension_id: z.uuid().optional().openapi({ description: 'The extension whose phones ring first; or give `from`' }),
    from: z.string().regex(/^[0-9]{2,10}$/, 'an extension number: digits only, 2 to 10 of them').optional().openapi({ description: 'The extension by number; or give `extension_id`' }),
    to: Dialable.openapi({ description: 'Dialled as if the extension had dialled it (routed by the dialplan)', example: '1002' }),
    caller_id: Dialable.optional().openapi({ description: "The number the destination sees instead of the extension's caller ID" }),
    timeout_seconds: z.number().int().min(5).max(120).default(30).openapi({ description: "How long the extension's phones ring" }),
  })
  .superRefine((body, ctx) => {
    if ((body.extension_id === undefined) === (body.from === undefined)) {
      for (const path of ['extension_id', 'from']) ctx.addIssue({ code: 'custom', path: [path], message: 'give exactly one of extension_id and from' });
    }
  })
  .openapi('OriginateCall');

export const TransferBody = z.strictObject({ to: Dialable.openapi({ example: '1003' }) }).openapi('TransferCall');

export function liveCallJson(call: LiveCallView): LiveCallJson {
  const party = (p: LiveCallView['caller']) => ({ number: p.number, name: p.name, extension_id: p.extensionId });
  return {
    id: call.id,
    direction: call.direction,
    // Final states never show: an ended call is no longer live (its CDR is at /cdrs).
    state: call.state.toLowerCase() as LiveCallJson['state'],
    caller: party(call.caller),
    callee: party(call.callee),
    answered_extension_id: call.answeredExtensionId,
    started_at: call.startedAt,
    answered_at: call.answeredAt,
    on_hold: call.heldBy.length > 0,
    held_by: call.heldBy,
    legs: [
      { role: 'caller', ...party(call.caller) },
      { role: 'callee', ...party(call.callee), extension_id: call.answeredExtensionId ?? call.callee.extensionId },
    ],
  };
}
