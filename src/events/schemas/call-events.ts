import { z } from 'zod';

/**
 * Payloads (`data`) of the call events (issue 5 §1). Field names follow the CDR as the API shows it
 * (`GET /api/v1/cdrs`), so an integrator reads the same names in a `call.ended` event and in the
 * call record. Defined here rather than imported from api/: events sit below the API in the layers.
 */

const instant = z.iso.datetime({ offset: true });
export const CALL_DIRECTIONS = ['internal', 'inbound', 'outbound'] as const;
export const CALL_DISPOSITIONS = ['answered', 'busy', 'no_answer', 'cancelled', 'failed', 'interrupted'] as const;
/**
 * Who put the call on hold or took it off: a phone on the caller's or callee's side (its re-INVITE,
 * RFC 3264 §8.4) or the live-calls API. Named `by` as CallService reports it; the API is a third
 * initiator a caller/callee enum could not say.
 */
const holdBy = z.enum(['caller', 'callee', 'api']);

/** Who is one end of a call, as call.start names the caller and callee. */
const partyOf = z.object({ number: z.string(), name: z.string().nullable(), extension_id: z.string().nullable() });

/** Who is calling whom; every call event after `call.start` repeats only the `call_id`. */
const parties = {
  direction: z.enum(CALL_DIRECTIONS),
  caller_number: z.string(),
  caller_name: z.string().nullable(),
  caller_extension_id: z.string().nullable(),
  callee_number: z.string(),
  callee_name: z.string().nullable(),
  callee_extension_id: z.string().nullable(),
};

export const CallStartData = z.object({ call_id: z.string(), ...parties, site_id: z.string().nullable(), started_at: instant });

export const CallRingingData = z.object({
  call_id: z.string(),
  /** The extension whose phones ring now (a ring group rings several in turn); null when not known. */
  extension_id: z.string().nullable(),
});

export const CallAnsweredData = z.object({
  call_id: z.string(),
  /** Who answered: a ring-group member or a forward target may differ from the extension dialled. */
  answered_extension_id: z.string().nullable(),
  answered_at: instant,
});

export const CallHoldData = z.object({ call_id: z.string(), by: holdBy });

/**
 * A transfer of `call_id` completed: the transferee now talks to `target` on `new_call_id`, and
 * `call_id` ends right after (its call.ended follows). Only completed transfers are events — one
 * that fails leaves the call as it was, so there is nothing for a receiver to act on; an attended
 * transfer reports this on both of the transferor's calls.
 */
export const CallTransferData = z.object({
  call_id: z.string(),
  kind: z.enum(['blind', 'attended']),
  /** The number or extension the call is transferred to. */
  target: z.string(),
  /** The call between the transferee and the target; null when the signalling side did not name one. */
  new_call_id: z.string().nullable(),
  /** The party that asked (its phone's REFER or Replaces INVITE); null when the API transferred the call. */
  transferor: partyOf.nullable(),
});

/** The call record fields (the CDR), so a receiver needs no second request to bill or log the call. */
export const CallEndedData = z.object({
  call_id: z.string(),
  cdr_id: z.string(),
  ...parties,
  answered_extension_id: z.string().nullable(),
  site_id: z.string().nullable(),
  sip_call_id: z.string().nullable(),
  started_at: instant,
  answered_at: instant.nullable(),
  ended_at: instant,
  duration_seconds: z.number().int().nonnegative(),
  billable_seconds: z.number().int().nonnegative(),
  hangup_cause: z.string(),
  sip_status: z.number().int().nullable(),
  disposition: z.enum(CALL_DISPOSITIONS),
});
