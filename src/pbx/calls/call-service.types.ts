import type { EventBus } from '../../events/event-bus.js';
import type { CallParty, HoldInitiator, PbxEvents } from '../../events/pbx-events.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { CallLegs } from '../../sip/calls/index.js';
import type { CallDirection, Db } from '../../store/index.js';
import type { CallOutbox } from '../events/call-outbox.js';
import type { CallEvent, CallState, Transition } from './call-state.js';

// The shapes CallService takes and gives; call-service.ts re-exports the public ones.

export interface CallServiceOptions {
  db: Db;
  bus: EventBus<PbxEvents>;
  /** Wall-clock time (stored timestamps come from it) and the ring timer. */
  clock: Clock;
  /** This process: stored with each call so the next start closes only its own interrupted calls. */
  instanceId: string;
  log: Logger;
  /** How long a call may ring before it ends as NO_ANSWER (issue 4 §2). */
  ringTimeoutMs: number;
  /** Live calls an extension may be party to at once unless the call names its own limit; the next one is refused. */
  maxCallsPerExtension: number;
  /**
   * Makes the public events (call.start, call.ringing, call.answered, call.ended) that are written
   * to the outbox in the same transaction as each change (issue 5 §2). Absent: no outbox events.
   */
  outbox?: CallOutbox;
}

export interface StartCallInput {
  tenantId: string;
  direction: CallDirection;
  caller: CallParty;
  callee: CallParty;
  siteId?: string | null;
  sipCallId?: string | null;
  /**
   * Each party's own limit (the extension's `max_concurrent_calls`; the service default for a caller
   * extension without one). The callee's is checked only when given: routed calls leave it to the
   * router, which turns a callee at its limit into busy and may forward the call.
   */
  limits?: { caller?: number; callee?: number };
  /** This call's ring limit when it needs more than the service default (a long ring-group plan). */
  ringTimeoutMs?: number | null;
  /**
   * Called once the ring timer has ended the call as NO_ANSWER, so the signalling side cancels
   * whatever it still has ringing and answers the caller; the call service owns no legs itself.
   */
  onRingTimeout?: () => void;
  /**
   * Called once {@link CallService.abort} has ended the still unanswered call as CANCELLED (the
   * live-calls API hung it up), so the signalling side stops ringing, answers the caller 487 and
   * releases the media — what a CANCEL from the caller would do.
   */
  onAbort?: () => void;
}

/** What the signalling side learns about a call it asked for. */
export type StartCallResult =
  | { ok: true; callId: string }
  /** Refused before any leg was tried; the call is recorded (with its CDR) all the same. */
  | { ok: false; callId: string; state: CallState; sipStatus: number };

/** A live call as others may see it (the live-calls API later); a snapshot, not the owner's object. */
export interface LiveCallView {
  id: string;
  tenantId: string;
  direction: CallDirection;
  state: CallState;
  caller: CallParty;
  callee: CallParty;
  startedAt: string;
  answeredAt: string | null;
  /** The extension that answered, once one has. */
  answeredExtensionId: string | null;
  /** Who holds the call now: a party's phone (re-INVITE sendonly/inactive) or the API; empty when nobody does. */
  heldBy: HoldInitiator[];
}

/** The owner's record of a live call (call-service.ts only). */
export interface LiveCall extends Omit<LiveCallView, 'heldBy'> {
  heldBy: Set<HoldInitiator>;
  /** Extensions that count this call against their limit and presence. */
  extensionIds: string[];
  ringTimer?: TimerHandle;
  /** Counted against the limits and presence (a refused call never is). */
  tracked: boolean;
  onRingTimeout?: () => void;
  onAbort?: () => void;
  /** Every event of a call is applied after the previous one finished persisting: one owner, one order. */
  queue: Promise<unknown>;
  /** The bridged legs, once answered: what the live-calls API steers. */
  legs?: CallLegs;
}


export type ApplyResult = Transition | { ok: false; from: 'UNKNOWN'; event: CallEvent['type'] };
