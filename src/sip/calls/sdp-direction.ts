/**
 * SDP direction as hold signalling (RFC 3264 §8.4, RFC 6337 §5.3): a re-offer with `a=sendonly` or
 * `a=inactive` puts the other party on hold, `a=sendrecv` (or no direction attribute) takes it off.
 * Old phones hold with `c=IN IP4 0.0.0.0` instead (RFC 2543 style, still seen), so that counts too.
 * Pure string work: the relay decides what to publish from it, rtpengine rewrites the SDP itself.
 */

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const directions: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

const linesOf = (sdp: string): string[] => sdp.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');

/**
 * The direction of the first audio stream (the one a phone holds): its media-level attribute, else
 * the session-level one, else sendrecv (RFC 4566 §6 default). Without an audio stream, the first stream's.
 */
export function mediaDirection(sdp: string): MediaDirection {
  const sections = splitSections(linesOf(sdp));
  const media = sections.media.find((m) => m[0]?.startsWith('m=audio')) ?? sections.media[0] ?? [];
  return directionIn(media) ?? directionIn(sections.session) ?? 'sendrecv';
}

/** True when the offer means "hold": sendonly or inactive, or a zero connection address for the held stream. */
export function isHoldOffer(sdp: string): boolean {
  const dir = mediaDirection(sdp);
  if (dir === 'sendonly' || dir === 'inactive') return true;
  const sections = splitSections(linesOf(sdp));
  const media = sections.media.find((m) => m[0]?.startsWith('m=audio')) ?? sections.media[0] ?? [];
  const c = media.find((l) => l.startsWith('c=')) ?? sections.session.find((l) => l.startsWith('c='));
  return c !== undefined && /^c=IN IP4 0\.0\.0\.0\b/.test(c);
}

/**
 * The same SDP with every stream's direction set to `dir` and the o= version bumped (RFC 3264 §8:
 * a changed offer in a dialog must carry a higher version), for re-INVITEs the PBX sends itself.
 */
export function withDirection(sdp: string, dir: MediaDirection): string {
  const out: string[] = [];
  let inMedia = false;
  for (const line of linesOf(sdp)) {
    if (line.startsWith('m=')) {
      inMedia = true;
      out.push(line, `a=${dir}`);
      continue;
    }
    if (directions.some((d) => line === `a=${d}`)) continue;
    if (line.startsWith('o=')) {
      out.push(bumpVersion(line));
      continue;
    }
    out.push(line);
  }
  // No stream at all: the session-level attribute is all there is to set.
  if (!inMedia) out.push(`a=${dir}`);
  return out.join('\r\n') + '\r\n';
}

/** o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>: the version plus one. */
function bumpVersion(origin: string): string {
  const parts = origin.split(' ');
  const version = parts[2];
  if (parts.length < 6 || version === undefined || !/^\d+$/.test(version)) return origin;
  parts[2] = (BigInt(version) + 1n).toString();
  return parts.join(' ');
}

function splitSections(lines: string[]): { session: string[]; media: string[][] } {
  const session: string[] = [];
  const media: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) media.push([line]);
    else if (media.length > 0) media[media.length - 1]!.push(line);
    else session.push(line);
  }
  return { session, media };
}

function directionIn(lines: string[]): MediaDirection | undefined {
  for (const line of lines) {
    const d = directions.find((x) => line === `a=${x}`);
    if (d) return d;
  }
  return undefined;
}
