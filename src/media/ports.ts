/**
 * The media port: what call logic (src/pbx) needs from whatever carries the audio. Two
 * implementations: `RtpengineAnchor` (media relayed through rtpengine, so phones behind NAT or on
 * different networks hear each other and the PBX can count, record and play into calls) and
 * `DirectMedia` (SDP passed through unchanged; the phones send RTP to each other).
 *
 * Call ids here are the PBX's own ids for a media session (one per bridged call). An
 * implementation may decorate them on the wire (RtpengineAnchor prefixes an owner tag) but always
 * hands back the ids it was given.
 */

/** How to rewrite the SDP of one side; each maps onto an rtpengine ng option. */
export interface MediaFlags {
  /**
   * `remove` strips ICE candidates (a SIP phone on plain RTP; the default), `force` adds rtpengine's
   * own candidates (a WebRTC leg).
   */
  readonly ice?: 'remove' | 'force';
  /** The transport profile to offer the *other* side, e.g. `UDP/TLS/RTP/SAVPF` when bridging to WebRTC. */
  readonly transportProtocol?: 'RTP/AVP' | 'RTP/SAVP' | 'RTP/SAVPF' | 'UDP/TLS/RTP/SAVPF';
  /** Start recording with the session (rtpengine `record call`); off unless asked for. */
  readonly record?: boolean;
  /** A label rtpengine shows for this side in `query` (e.g. `caller`, `callee`). */
  readonly label?: string;
}

export interface OfferRequest {
  readonly callId: string;
  /** The tag of the side that sent this offer (the SIP From-tag of its dialog). */
  readonly fromTag: string;
  /**
   * The other side's tag, for a re-offer inside an established session (a re-INVITE, hold): either
   * side may re-offer, and the pair of tags tells rtpengine which direction is being renegotiated.
   */
  readonly toTag?: string;
  readonly sdp: string;
  readonly flags?: MediaFlags;
}

export interface AnswerRequest {
  readonly callId: string;
  /** The tag the offer was made with. */
  readonly fromTag: string;
  /** The tag of the answering side (the SIP To-tag). */
  readonly toTag: string;
  readonly sdp: string;
  readonly flags?: MediaFlags;
}

export interface DeleteRequest {
  readonly callId: string;
  /** Only this side's media; without it the whole session. */
  readonly fromTag?: string;
}

/** The SDP to forward to the other side. */
export interface SdpResult {
  readonly sdp: string;
}

/** Packet counters of one side (one tag) of a media session. */
export interface MediaLegStats {
  readonly tag: string;
  readonly label?: string;
  /** Packets and bytes rtpengine received from this side (RTP only, RTCP apart). */
  readonly rtp: { readonly packets: number; readonly bytes: number };
  readonly rtcp: { readonly packets: number; readonly bytes: number };
}

export interface MediaSessionInfo {
  readonly callId: string;
  /** Seconds since the epoch, as rtpengine reports them. */
  readonly createdAt?: number;
  readonly legs: readonly MediaLegStats[];
}

/** Which implementation is in use, for logs, the banner and readiness. */
export type MediaAnchorKind = 'rtpengine' | 'direct';

export interface MediaAnchor {
  readonly kind: MediaAnchorKind;
  /** Rewrite an offer so media flows through the anchor; returns the SDP to send on. */
  offer(req: OfferRequest): Promise<SdpResult>;
  /** Rewrite the answer to that offer. */
  answer(req: AnswerRequest): Promise<SdpResult>;
  /**
   * Release media. Idempotent: deleting a session that does not exist (never created, already
   * deleted, timed out in rtpengine) resolves, so every call-end path may call it without checking.
   */
  delete(req: DeleteRequest): Promise<void>;
  /** The session's counters, or `undefined` when the anchor holds no such session. */
  query(callId: string): Promise<MediaSessionInfo | undefined>;
  /** Resolves when the anchor answers; rejects with a MediaError otherwise. */
  ping(): Promise<void>;
  /** Ids of the sessions this process owns in the anchor (see RtpengineAnchor's owner tag). */
  list(): Promise<string[]>;
}
