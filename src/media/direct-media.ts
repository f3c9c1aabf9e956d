import type { AnswerRequest, DeleteRequest, MediaAnchor, MediaSessionInfo, OfferRequest, SdpResult } from './ports.js';

/**
 * No anchor: the SDP goes through byte for byte, so the phones send RTP straight to each other.
 * Works when they can reach each other (same LAN, no NAT between them); the PBX then sees no
 * media, so there are no counters and nothing to release.
 */
export class DirectMedia implements MediaAnchor {
  readonly kind = 'direct' as const;

  offer(req: OfferRequest): Promise<SdpResult> {
    return Promise.resolve({ sdp: req.sdp });
  }

  answer(req: AnswerRequest): Promise<SdpResult> {
    return Promise.resolve({ sdp: req.sdp });
  }

  delete(_req: DeleteRequest): Promise<void> {
    return Promise.resolve();
  }

  query(_callId: string): Promise<MediaSessionInfo | undefined> {
    return Promise.resolve(undefined);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  list(): Promise<string[]> {
    return Promise.resolve([]);
  }
}
