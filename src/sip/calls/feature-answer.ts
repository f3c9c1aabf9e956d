/**
 * How a feature-code call (`*78`…) ends on the phone: answered, so the phone shows the code was
 * taken, then hung up by us. There is nothing to hear yet (prompts arrive with media playback), so
 * the answer declines every media stream (port 0, RFC 3264 §6) instead of anchoring any media.
 */

/** An SDP answer that rejects each of the offer's media streams, in order, keeping each one's format. */
export function declineAllMedia(offer: string, sessionId: number): string {
  const media = offer
    .split(/\r?\n/)
    .filter((line) => line.startsWith('m='))
    .map((line) => {
      const [kind = 'audio', , proto = 'RTP/AVP', format = '0'] = line.slice(2).trim().split(/\s+/);
      return `m=${kind} 0 ${proto} ${format}`;
    });
  return [`v=0`, `o=- ${sessionId} ${sessionId} IN IP4 0.0.0.0`, `s=-`, `c=IN IP4 0.0.0.0`, `t=0 0`, ...media, ''].join('\r\n');
}

/** How long the phone shows the answered feature call before we hang up. */
export const FEATURE_CALL_HOLD_MS = 800;
