import type { TransportProtocol } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';

/**
 * drachtio's dialog id (drachtio-protocol §4.6): `<Call-ID>;from-tag=<tag of the From header of the
 * dialog-creating request>` — the remote tag for a UAS dialog, our own tag for a UAC dialog.
 * srf relies on this exact format (Srf.findDialogByCallIDAndFromTag).
 */
export function dialogIdOf(callId: string, creatorFromTag: string): string {
  return `${callId};from-tag=${creatorFromTag}`;
}

export type DialogRole = 'uas' | 'uac';

/** The owner of a dialog on the application side: one drachtio-srf connection. */
export interface DialogOwner {
  readonly id: string;
}

/** Session timer state (RFC 4028). */
export interface SessionTimerState {
  interval: number;
  /** Who refreshes: 'local' → we send re-INVITEs at interval/2; 'remote' → we BYE at expiry. */
  refresher: 'local' | 'remote';
}

/**
 * One SIP dialog (RFC 3261 §12) as the engine tracks it for an app connection. Header values are
 * kept as strings because the app (srf) re-parses what it receives.
 */
export interface Dialog {
  id: string;
  role: DialogRole;
  /** What created it: an INVITE (call) or a SUBSCRIBE (subscription, RFC 6665). */
  usage: 'invite' | 'subscribe';
  /** Early (reliable 1xx, RFC 3262) or confirmed (2xx). */
  state: 'early' | 'confirmed';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Value for the From header of requests we send (our name-addr with our tag). */
  localParty: string;
  /** Value for the To header of requests we send (their name-addr with their tag). */
  remoteParty: string;
  /** Remote target: the URI of the peer's Contact (RFC 3261 §12.1). */
  remoteTarget: string;
  /** Route set, in the order our requests carry it (RFC 3261 §12.1.1 / §12.1.2). */
  routeSet: string[];
  /** The Contact value we sent, re-used in re-INVITEs and 2xx to re-INVITE. */
  localContact: string;
  localSeq: number;
  remoteSeq?: number;
  protocol: TransportProtocol;
  /** The flow the dialog was set up on: reused for connection-oriented transports. */
  flow?: Flow;
  /**
   * NAT route (drachtio-protocol §4.6): for a UAS dialog over UDP whose Contact host differs from
   * the packet source, in-dialog requests go to the source ip:port instead.
   */
  natRoute?: Destination;
  owner: DialogOwner;
  localSdp?: string;
  remoteSdp?: string;
  sessionTimer?: SessionTimerState;
  /** Subscription dialogs: terminated NOTIFY seen, remove on its response. */
  terminating?: boolean;
}
