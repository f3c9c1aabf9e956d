/**
 * The states and outcomes as the store keeps them. Spelled out here rather than imported from
 * src/pbx (the store sits left of pbx); pbx's `CallState` is the same union, and the compiler checks
 * that wherever the call service hands one to the store.
 */
export type StoredCallState = 'INITIATED' | 'RINGING' | 'ANSWERED' | 'COMPLETED' | 'FAILED' | 'BUSY' | 'NO_ANSWER' | 'CANCELLED';

/** The final states: the ones {@link CdrTable} rows close a call with. */
export type StoredFinalCallState = Extract<StoredCallState, 'COMPLETED' | 'FAILED' | 'BUSY' | 'NO_ANSWER' | 'CANCELLED'>;

/** internal: extension to extension; inbound/outbound arrive with trunks. */
export type CallDirection = 'internal' | 'inbound' | 'outbound';

/** How a call ended, for reports: one per final state, plus `interrupted` for calls a crash cut off. */
export type CdrDisposition = 'answered' | 'busy' | 'no_answer' | 'cancelled' | 'failed' | 'interrupted';

/** Row shape of `calls`: one per call, open (no `ended_at`) while it lives. */
export interface CallTable {
  id: string;
  tenant_id: string;
  state: StoredCallState;
  direction: CallDirection;
  caller_number: string;
  caller_name: string | null;
  callee_number: string;
  callee_name: string | null;
  caller_extension_id: string | null;
  callee_extension_id: string | null;
  /** The extension that answered (a ring-group member, a forward target); null until answered. */
  answered_extension_id: string | null;
  site_id: string | null;
  sip_call_id: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  hangup_cause: string | null;
  sip_status: number | null;
  /** The call a transfer moved this call's transferee to; null when it was not transferred. */
  transferred_to_call_id: string | null;
  /** The Switchboard process that owns the call, so crash recovery closes only its own calls. */
  instance_id: string;
}

/** Row shape of `cdrs`: one record per ended call (product.md §2 item 23). */
export interface CdrTable {
  id: string;
  tenant_id: string;
  call_id: string;
  direction: CallDirection;
  caller_number: string;
  caller_name: string | null;
  callee_number: string;
  callee_name: string | null;
  caller_extension_id: string | null;
  callee_extension_id: string | null;
  answered_extension_id: string | null;
  site_id: string | null;
  sip_call_id: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string;
  /** Whole seconds from start to end. */
  duration_seconds: number;
  /** Whole seconds from answer to end; 0 for an unanswered call. */
  billable_seconds: number;
  hangup_cause: string;
  sip_status: number | null;
  disposition: CdrDisposition;
  /** The new call a transfer moved the transferee to (its CDR has that `call_id`); null when not transferred. */
  transferred_to_call_id: string | null;
  created_at: string;
}
