import type { TimerHandle } from '../../shared/clock.js';
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';
import type { AppConnection, ClientTxn, InviteServerTxn, ServerTxn } from './ports.js';

/**
 * A request received from the network and handed to an app, until the app's final response
 * (drachtio-protocol §4.1: "pending new requests", "incoming server transactions", UAS "IIP").
 */
export interface InboundTxn {
  /** The transactionId the app knows this request by. */
  txnId: string;
  txn: ServerTxn;
  req: SipRequest;
  flow: Flow;
  owner: AppConnection;
  /** Set for in-dialog requests and, for INVITE/SUBSCRIBE, once the first response fixes it. */
  dialogId?: string;
  /** Our To tag for this request's responses (fixed by the first response that carries one). */
  toTag?: string;
  /** 'none' while pending; 'provisional' after a 1xx; 'final' once a final response went out. */
  answered: 'none' | 'provisional' | 'final';
  /** Timer that drops a request the app never answers. */
  pendingTimer?: TimerHandle;
  /** Reliable provisional responses sent and not yet PRACKed (RFC 3262). */
  reliable?: ReliableProvisional;
  /** Next RSeq for a reliable 1xx of this INVITE. */
  nextRSeq?: number;
  /** An UPDATE received in the early dialog, delivered to the app with this INVITE's txnId (§4.7). */
  earlyUpdate?: { txn: ServerTxn; req: SipRequest };
  /** The app's request arrived as a CANCEL target: the INVITE was answered 487 by the engine. */
  cancelled?: boolean;
}

export interface ReliableProvisional {
  rseq: number;
  response: SipResponse;
  bytes: Buffer;
  dest: Destination;
  timer?: TimerHandle;
  interval: number;
  startedAt: number;
}

/** A request the app sent (drachtio-protocol §4.1 "requests in progress"). */
export interface OutboundTxn {
  txnId: string;
  owner: AppConnection;
  txn: ClientTxn;
  /** The request as sent. */
  req: SipRequest;
  dest: Destination;
  method: string;
  /** For INVITE/SUBSCRIBE and in-dialog requests. */
  dialogId?: string;
  /** BYE / terminating NOTIFY: remove the dialog when the final response arrives (not on 401/407). */
  clearDialogOnResponse?: boolean;
  /** The app cancelled this INVITE: a late 2xx is ACKed and then BYEd (drachtio-protocol §4.5). */
  cancelled?: boolean;
  /** A 2xx without a To tag arrived: no dialog; the app's ACK for it CANCELs the INVITE instead. */
  taglessAnswer?: boolean;
  /** A final response has been delivered (later 2xx from forks are handled separately). */
  finalStatus?: number;
}

/** Runtime state of a dialog beyond its RFC 3261 data. */
export interface DialogRuntime extends Dialog {
  owner: AppConnection;
  /** UAS: a 2xx to an INVITE awaiting ACK; its transaction retransmits it (RFC 3261 §13.3.1.4). */
  awaitingAck?: { cseq: number; txn: InviteServerTxn };
  /** UAC: the last ACK we sent for a 2xx, re-sent when the 2xx is retransmitted (§13.2.2.4). */
  lastAck?: { cseq: number; bytes: Buffer; dest: Destination };
  /** UAC: the INVITE (initial or re-INVITE) we have outstanding in this dialog, for glare (491) and PRACK. */
  outstandingInvite?: OutboundTxn;
  /** UAS: the txnId of the INVITE that created the dialog while it is still being answered. */
  inviteTxnId?: string;
  /** UAS: an inbound re-INVITE we have not answered yet (glare detection). */
  inboundInviteInProgress?: boolean;
  /** The engine's own session-refresh re-INVITE is outstanding (glare detection). */
  refreshing?: boolean;
  /** The owning app connection closed: in-dialog requests get 481 (drachtio-protocol §4.1). */
  orphaned?: boolean;
  /** Session timer (RFC 4028) handle. */
  sessionTimerHandle?: TimerHandle;
}
