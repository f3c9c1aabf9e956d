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
    sipCallId: string;
    /** Each extension's own `max_concurrent_calls`. */
    limits: { caller?: number; callee?: number };
    onRingTimeout: () => void;
  }): Promise<StartedCall>;
  ringing(callId: string): Promise<void>;
  /** False when the call can no longer be answered (cancelled or timed out meanwhile): hang the winner up. */
  answered(callId: string): Promise<boolean>;
  /** Every fork failed; `sipStatus` is the best final response (RFC 3261 §16.7 step 6). */
  failed(callId: string, sipStatus: number): Promise<void>;
  callerCancelled(callId: string): Promise<void>;
  hungUp(callId: string): Promise<void>;
}

/** The media anchor's SDP operations (src/media/ports.ts MediaAnchor satisfies this). */
export interface SdpAnchor {
  offer(req: { callId: string; fromTag: string; sdp: string; flags?: { label?: string } }): Promise<{ sdp: string }>;
  answer(req: { callId: string; fromTag: string; toTag: string; sdp: string; flags?: { label?: string } }): Promise<{ sdp: string }>;
  delete(req: { callId: string }): Promise<void>;
}
