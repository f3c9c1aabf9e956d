/**
 * What the INVITE handler needs from the layers it may not import (src/pbx and src/media sit beside
 * or above src/sip): main.ts passes the call service (through src/pbx/calls/call-control.ts) and the
 * media anchor, which satisfy these shapes structurally.
 */

export interface CallPartyInfo {
  number: string;
  name: string | null;
  extensionId: string | null;
}

export interface StartedCall {
  ok: boolean;
  callId: string;
  /** When refused (`ok` false): the status to answer the caller with. */
  sipStatus?: number;
}

/** The call service as the signalling side sees it: report what happened on the wire, in SIP terms. */
export interface CallControl {
  startCall(input: {
    tenantId: string;
    caller: CallPartyInfo;
    callee: CallPartyInfo;
    siteId: string | null;
    /** The caller's INVITE; null for a call the PBX places itself (click-to-call), which has no single one. */
    sipCallId: string | null;
    /** The caller extension's own `max_concurrent_calls` (the callee's is the router's business). */
    limits: { caller?: number; callee?: number };
    /** The route's ring limit when it needs more than the default. */
    ringTimeoutMs?: number | null;
    onRingTimeout: () => void;
    /** The live-calls API hung the call up before anyone answered: stop ringing, answer the caller 487, release the media. */
    onAbort?: () => void;
  }): Promise<StartedCall>;
  ringing(callId: string): Promise<void>;
  /** False when the call can no longer be answered (cancelled or timed out meanwhile): hang the winner up. */
  answered(callId: string, extensionId?: string | null): Promise<boolean>;
  /** Every fork failed; `sipStatus` is the best final response (RFC 3261 §16.7 step 6). */
  failed(callId: string, sipStatus: number): Promise<void>;
  callerCancelled(callId: string): Promise<void>;
  hungUp(callId: string): Promise<void>;
  /** A party (or the API) put the bridged call on hold (`on`) or took it off (issue 4 §5, §8). */
  held(callId: string, on: boolean, by: 'caller' | 'callee' | 'api'): Promise<void>;
  /** A transfer of this call completed (blind or attended); the transferee talks on `newCallId` from now on. */
  transferred(callId: string, info: { kind: 'blind' | 'attended'; transferor: CallPartyInfo | null; target: string; newCallId?: string }): Promise<void>;
  /** The call is bridged: from now on the call service (and the live-calls API) steer it through `legs`. */
  attachLegs(callId: string, legs: CallLegs): void;
}

/**
 * One answered call's legs as call logic may steer them (issue 4 §7): the SIP side builds it when
 * it bridges a call and hands it to the call service, which drives it for the live-calls API.
 */
export interface CallLegs {
  /** BYE both legs; the call ends as COMPLETED. */
  hangUp(): void;
  /** Hold from the PBX: each party is re-INVITEd so neither hears the other; resolves once both answered. */
  hold(): Promise<void>;
  unhold(): Promise<void>;
  /** Blind transfer of the caller's side to `number` (routed by the dialplan); the other leg is released once the target answers. */
  transfer(number: string): Promise<void>;
  /** Stop a transfer still ringing its target: the call goes on as it was. False when none is pending. */
  cancelTransfer(): Promise<boolean>;
}

/** The media anchor's SDP operations (src/media/ports.ts MediaAnchor satisfies this). */
export interface SdpAnchor {
  /** `toTag` on a re-offer inside a bridged call (re-INVITE): which side renegotiates towards which. */
  offer(req: { callId: string; fromTag: string; toTag?: string; sdp: string; flags?: { label?: string } }): Promise<{ sdp: string }>;
  answer(req: { callId: string; fromTag: string; toTag: string; sdp: string; flags?: { label?: string } }): Promise<{ sdp: string }>;
  delete(req: { callId: string }): Promise<void>;
}

/**
 * Where a dialled number goes, decided by the PBX (src/pbx/dialplan implements it): the INVITE
 * handler asks once per call and then executes the decision, never interpreting numbers itself.
 */
export interface CallRouter {
  route(input: RouteInput): Promise<RouteDecision>;
}

export interface RouteInput {
  tenantId: string;
  /** The authenticated calling extension. */
  callerExtensionId: string;
  /** What was dialled: the user part of the Request-URI, as sent. */
  dialed: string;
  /** Epoch ms; the dialplan's time conditions are evaluated at this instant. */
  at: number;
}

/** One line of the routing trace: which rule matched and what it decided (shown by routing/simulate, logged per call). */
export interface RouteTraceEntry {
  step: string;
  detail: string;
}

export type RouteDecision =
  /** Nothing to ring: answer the caller with `sipStatus` (404 unknown number, 486 DND, 403 not allowed…). */
  | { kind: 'reject'; sipStatus: number; reason: string; callee: CallPartyInfo; trace: RouteTraceEntry[] }
  /**
   * A feature code (`*78` DND on…): `run` applies it; the handler answers the call, then hangs up,
   * so the phone shows a completed call; a failed run answers `sipStatus` instead.
   */
  | { kind: 'feature'; code: string; callee: CallPartyInfo; trace: RouteTraceEntry[]; run(): Promise<{ ok: true } | { ok: false; sipStatus: number; reason: string }> }
  /** Ring extensions step by step (an extension and its forwards, a ring group and its fallback). */
  | {
      kind: 'ring';
      callee: CallPartyInfo;
      plan: RingPlan;
      trace: RouteTraceEntry[];
      /** The call's overall ring limit when the plan needs more than the default (a long sequential group); null for the default. */
      ringTimeoutMs: number | null;
    };

/**
 * The steps of ringing one call, decided one at a time as earlier steps end unanswered: the PBX
 * owns the strategy (forward on busy, sequential members, round robin), the SIP side only rings.
 */
export interface RingPlan {
  /** The first step, or the end when nothing can ring at all. */
  first(): Promise<RingStep | RingEnd>;
  /** The step before ended unanswered with `outcome`: the next step, or the end. */
  next(outcome: RingOutcome): Promise<RingStep | RingEnd>;
  /** The call was answered by this extension during the current step (round-robin memory). */
  answered(extensionId: string): void;
}

export interface RingStep {
  kind: 'step';
  /** Extensions whose live contacts all ring together in this step (an extension with none counts as unavailable, 480). */
  extensionIds: string[];
  /** The step ends as no answer (480) after this long; null: only the call's ring timeout ends it. */
  timeoutMs: number | null;
  /** Why this step, for the trace and logs ("ring group 600 member 1002", "forward on busy of 1002 to 1003"). */
  reason: string;
}

export interface RingEnd {
  kind: 'end';
  /** The final answer to the caller: usually the outcome of the last step. */
  sipStatus: number;
  reason: string;
}

export interface RingOutcome {
  /** 486 every contact busy (or the extensions were all at their call limit), 480 not registered or the step timed out, else the best failure. */
  sipStatus: number;
  /** True when the step's own timer ended it (no answer), not the phones. */
  timedOut: boolean;
}
