import { z } from 'zod';

/**
 * Payloads (`data`) of the call events (issue 5 §1). Field names follow the CDR as the API shows it
 * (`GET /api/v1/cdrs`), so an integrator reads the same names in a `call.ended` event and in the
 * call record. Defined here rather than imported from api/: events sit below the API in the layers.
 */

const instant = z.iso.datetime({ offset: true });
export const CALL_DIRECTIONS = ['internal', 'inbound', 'outbound'] as const;
export const CALL_DISPOSITIONS = ['answered', 'busy', 'no_answer', 'cancelled', 'failed', 'interrupted'] as const;
/** Which end of the call did something (hold, transfer). */
const party = z.enum(['caller', 'callee']);

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

export const CallHoldData = z.object({ call_id: z.string(), party });

export const CallTransferData = z.object({
  call_id: z.string(),
  party,
  kind: z.enum(['blind', 'attended']),
  /** The number or extension the call is transferred to. */
  target: z.string(),
  status: z.enum(['requested', 'completed', 'failed', 'cancelled']),
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
