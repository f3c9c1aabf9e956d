/**
 * The call state machine of issue 4 §2 as a pure reducer, so the call service, the SIP adapter and
 * tests all agree on which outcome a call ended with:
 *
 *   INITIATED → RINGING → ANSWERED → COMPLETED
 *        ↘          ↘
 *         FAILED | BUSY | NO_ANSWER | CANCELLED
 *
 * No SIP parsing here: the adapter turns what it saw on the wire into an event (a final status
 * through {@link eventForFinalStatus}), and the reducer decides. Illegal transitions are values,
 * not exceptions, because a late 200 after a CANCEL or a BYE racing a 487 are normal on a network,
 * and the caller must be able to ignore them without a try/catch.
 */

export type CallState = 'INITIATED' | 'RINGING' | 'ANSWERED' | 'COMPLETED' | 'FAILED' | 'BUSY' | 'NO_ANSWER' | 'CANCELLED';

/** The states a call never leaves; each one ends the call and yields a CDR. */
export type FinalCallState = Extract<CallState, 'COMPLETED' | 'FAILED' | 'BUSY' | 'NO_ANSWER' | 'CANCELLED'>;

export const finalCallStates: readonly FinalCallState[] = ['COMPLETED', 'FAILED', 'BUSY', 'NO_ANSWER', 'CANCELLED'];

export function isFinalCallState(state: CallState): state is FinalCallState {
  return (finalCallStates as readonly CallState[]).includes(state);
}

/**
 * Hang-up causes as stable strings (the Q.850 names PBXs and CDR tools already know), so CDR
 * consumers can group calls without knowing SIP.
 */
export type HangupCause =
  | 'NORMAL_CLEARING'
  | 'USER_BUSY'
  | 'NO_ANSWER'
  | 'NO_USER_RESPONSE'
  | 'UNALLOCATED_NUMBER'
  | 'ORIGINATOR_CANCEL'
  | 'CALL_REJECTED'
  | 'NORMAL_TEMPORARY_FAILURE';

export type CallEvent =
  | { readonly type: 'ring' }
  /** `extensionId`: who answered, when an extension did (recorded on the call and its CDR). */
  | { readonly type: 'answer'; readonly extensionId?: string }
  | { readonly type: 'hangup' }
  | { readonly type: 'fail'; readonly sipStatus: number; readonly cause: HangupCause }
  | { readonly type: 'busy'; readonly sipStatus: number }
  | { readonly type: 'noAnswer'; readonly sipStatus: number }
  | { readonly type: 'cancel' };

export type CallEventType = CallEvent['type'];

export type Transition =
  | { readonly ok: true; readonly state: CallState; /** false for a repeated ring (a second fork's 180): nothing to announce. */ readonly changed: boolean }
  | { readonly ok: false; readonly from: CallState; readonly event: CallEventType };

/** Per state, the events it accepts and where each leads; anything missing is illegal. */
const transitions: Readonly<Record<CallState, Partial<Record<CallEventType, CallState>>>> = {
  INITIATED: { ring: 'RINGING', answer: 'ANSWERED', fail: 'FAILED', busy: 'BUSY', noAnswer: 'NO_ANSWER', cancel: 'CANCELLED' },
  // ring again: every contact of a forked call may send its own 180.
  RINGING: { ring: 'RINGING', answer: 'ANSWERED', fail: 'FAILED', busy: 'BUSY', noAnswer: 'NO_ANSWER', cancel: 'CANCELLED' },
  // Once answered only a BYE ends the call; a late failure of another fork does not change it.
  ANSWERED: { hangup: 'COMPLETED' },
  COMPLETED: {},
  FAILED: {},
  BUSY: {},
  NO_ANSWER: {},
  CANCELLED: {},
};

/** Apply one event; the state is unchanged (and `ok` false) when the event is illegal in it. */
export function reduceCallState(state: CallState, event: CallEvent): Transition {
  const next = transitions[state][event.type];
  if (next === undefined) return { ok: false, from: state, event: event.type };
  return { ok: true, state: next, changed: next !== state };
}

/**
 * The event a final non-2xx response of the callee side stands for (RFC 3261 §21): 486 Busy Here
 * and 600 Busy Everywhere are busy; 480 Temporarily Unavailable and 408 Request Timeout mean nobody
 * answered; 487 Request Terminated is the answer to our own CANCEL; everything else is a failure
 * whose cause says why.
 *
 * @throws RangeError for a status that is not a final failure (< 300 or > 699), a caller bug.
 */
export function eventForFinalStatus(sipStatus: number): CallEvent {
  if (!Number.isInteger(sipStatus) || sipStatus < 300 || sipStatus > 699) {
    throw new RangeError(`not a final failure status: ${sipStatus}`);
  }
  switch (sipStatus) {
    case 486:
    case 600:
      return { type: 'busy', sipStatus };
    case 480:
    case 408:
      return { type: 'noAnswer', sipStatus };
    case 487:
      return { type: 'cancel' };
    default:
      return { type: 'fail', sipStatus, cause: causeForFailure(sipStatus) };
  }
}

function causeForFailure(sipStatus: number): HangupCause {
  if (sipStatus === 404 || sipStatus === 484 || sipStatus === 604) return 'UNALLOCATED_NUMBER';
  if (sipStatus === 403 || sipStatus === 603) return 'CALL_REJECTED';
  return 'NORMAL_TEMPORARY_FAILURE';
}

/** The cause recorded for a call that reached a final state through `event` (hangup and cancel carry none of their own). */
export function hangupCauseOf(event: CallEvent): HangupCause {
  switch (event.type) {
    case 'hangup':
    case 'answer':
    case 'ring':
      return 'NORMAL_CLEARING';
    case 'fail':
      return event.cause;
    case 'busy':
      return 'USER_BUSY';
    case 'noAnswer':
      return event.sipStatus === 408 ? 'NO_USER_RESPONSE' : 'NO_ANSWER';
    case 'cancel':
      return 'ORIGINATOR_CANCEL';
  }
}
