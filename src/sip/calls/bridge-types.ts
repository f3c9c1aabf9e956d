/**
 * The shapes shared by a bridged call's features (re-INVITE relay, REFER, transfers, the CallLegs
 * the API steers). Types only, so the feature files and bridge.ts can all name them without an
 * import cycle: the transfers re-bridge through `BridgeDeps.tie`, not by importing bridge.ts.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { LocationService } from '../registrar/location.js';
import type { CallControl, CallPartyInfo, CallRouter, SdpAnchor } from './ports.js';

export type SideRole = 'caller' | 'callee';

/** One party of a bridged call, as the PBX holds it. */
export interface BridgeSide {
  role: SideRole;
  /** The PBX's dialog with this party's phone (UAS for the caller, UAC for the callee). */
  dialog: Srf.Dialog;
  party: CallPartyInfo;
  /** This side's tag in the media session: the phone's own dialog tag. */
  tag: string;
  /** The phone's last SDP (offer or answer), kept here because srf overwrites `remote.sdp` with a re-INVITE's body before we judge it. */
  sdp: string;
  /** The phone itself put the other party on hold (its last offer was sendonly/inactive). */
  holding: boolean;
}

export interface Bridge {
  /** The call service's id; also the media session's id. */
  readonly callId: string;
  readonly tenantId: string;
  readonly siteId: string | null;
  /** The tenant's SIP domain: the From of legs the PBX places for this call (transfer targets). */
  readonly sipDomain: string;
  readonly caller: BridgeSide;
  readonly callee: BridgeSide;
  /** A re-INVITE, PBX hold or transfer is under way: another one now is glare (491, RFC 3261 §14.1). */
  busy: boolean;
  /** Put on hold by the PBX (the live-calls API). */
  pbxHeld: boolean;
  /** A transfer still ringing its target: cancelling it lets the call go on. */
  pendingTransfer?: { cancel(): void };
  /** Ended (BYE, hang-up) or handed over to a new call by a transfer. */
  readonly over: boolean;
  /**
   * Detach this bridge from its dialogs without hanging anything up: a transfer takes the
   * transferee's dialog into a new bridge. The call is not finished; see `finish`.
   */
  untie(): void;
  /** Record the end of this call (media released, call service told) without sending any BYE. */
  finish(): void;
  /** BYE both legs and finish. */
  hangUp(): void;
}

export interface TieInput {
  callId: string;
  tenantId: string;
  siteId: string | null;
  sipDomain: string;
  caller: { dialog: Srf.Dialog; party: CallPartyInfo; sdp: string };
  callee: { dialog: Srf.Dialog; party: CallPartyInfo; sdp: string };
}

/** Finds bridged calls by one of their dialogs, for Replaces (RFC 3891 §3). */
export interface BridgeRegistry {
  add(bridge: Bridge): void;
  remove(bridge: Bridge): void;
  /** The bridge and side whose PBX dialog has this Call-ID and these two tags (in either order). */
  find(callId: string, tagA: string, tagB: string): { bridge: Bridge; side: BridgeSide } | undefined;
  readonly size: number;
}

export interface BridgeDeps {
  srf: Srf;
  calls: CallControl;
  media: SdpAnchor;
  router: CallRouter;
  location: LocationService;
  clock: Clock;
  log: Logger;
  registry: BridgeRegistry;
  /** Bridge two dialogs as a call (bridge.ts's tieDialogs, bound to these deps). */
  tie(input: TieInput): Bridge;
}

export function otherSide(bridge: Bridge, side: BridgeSide): BridgeSide {
  return side === bridge.caller ? bridge.callee : bridge.caller;
}

/** A SIP final status out of whatever srf rejected with (its SipError has `status`); 500 otherwise. */
export function statusOf(err: unknown): number {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 300 && status <= 699 ? status : 500;
}
