/**
 * The events call handling publishes (issue 4 §8), with payloads of plain data so any consumer
 * (webhooks, WebSocket, tests) can serialize them as they are. Names follow the public event names.
 */

/** Who is on one end of a call, as the CDR and the API show it. */
export interface CallParty {
  number: string;
  name: string | null;
  extensionId: string | null;
}

export interface CallEventBase {
  callId: string;
  tenantId: string;
  /** ISO-8601 time of the change. */
  at: string;
}

/** Who put a call on hold or took it off: a phone (re-INVITE from the caller's or callee's side) or the live-calls API. */
export type HoldInitiator = 'caller' | 'callee' | 'api';

export interface PbxEvents {
  'call.start': CallEventBase & { direction: 'internal' | 'inbound' | 'outbound'; caller: CallParty; callee: CallParty };
  'call.ringing': CallEventBase;
  'call.answered': CallEventBase;
  'call.ended': CallEventBase & { state: string; disposition: string; hangupCause: string; sipStatus: number | null; durationSeconds: number; billableSeconds: number };
  'call.hold': CallEventBase & { by: HoldInitiator };
  'call.unhold': CallEventBase & { by: HoldInitiator };
  /**
   * A transfer completed: `callId` is the call that was transferred (it ends), `newCallId` the call
   * between the transferee and the target that replaces it. `transferor` is the party that asked
   * (a phone's REFER) or null for the API; `target` is the number transferred to.
   */
  'call.transfer': CallEventBase & { kind: 'blind' | 'attended'; transferor: CallParty | null; target: string; newCallId?: string };
  /** An extension's call presence: `in_call` from its first live call, `idle` after its last. */
  'extension.status': { tenantId: string; extensionId: string; status: 'in_call' | 'idle'; activeCalls: number; at: string };
}
