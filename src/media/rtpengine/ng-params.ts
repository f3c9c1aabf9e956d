import type { NgDictionary } from 'rtpengine-client';
import type { AnswerRequest, MediaFlags, MediaLegStats, MediaSessionInfo, OfferRequest } from '../ports.js';

/**
 * Options every offer and answer carries, whatever the call:
 * - `replace: origin, session-connection`: the o= and session c= lines name rtpengine, not the
 *   phone, so the far side's NAT/ALG logic and RTCP look at the address that carries media.
 * - `ICE: remove` unless asked otherwise: SIP phones on plain RTP must not try candidates of the
 *   other side's network.
 * - `record call: no`: recording is a feature a later issue turns on per call, never a daemon default.
 * - SDP attributes beyond that are untouched: codecs and ptime are the phones' business.
 */
function sideOptions(flags: MediaFlags = {}): NgDictionary {
  const params: NgDictionary = {
    replace: ['origin', 'session-connection'],
    ICE: flags.ice ?? 'remove',
    'record call': flags.record === true ? 'yes' : 'no',
  };
  if (flags.transportProtocol !== undefined) params['transport-protocol'] = flags.transportProtocol;
  if (flags.label !== undefined) params.label = flags.label;
  return params;
}

/** The ng `offer` dictionary; `wireCallId` is the call id as rtpengine knows it (owner-tagged). */
export function offerParams(req: OfferRequest, wireCallId: string): NgDictionary {
  return { 'call-id': wireCallId, 'from-tag': req.fromTag, ...(req.toTag !== undefined ? { 'to-tag': req.toTag } : {}), sdp: req.sdp, ...sideOptions(req.flags) };
}

/** The ng `answer` dictionary. */
export function answerParams(req: AnswerRequest, wireCallId: string): NgDictionary {
  return { 'call-id': wireCallId, 'from-tag': req.fromTag, 'to-tag': req.toTag, sdp: req.sdp, ...sideOptions(req.flags) };
}

const counter = (v: unknown): { packets: number; bytes: number } => {
  const s = (v ?? {}) as { packets?: unknown; bytes?: unknown };
  return { packets: typeof s.packets === 'number' ? s.packets : 0, bytes: typeof s.bytes === 'number' ? s.bytes : 0 };
};

interface NgStream {
  flags?: unknown;
  stats?: unknown;
}
interface NgTag {
  tag?: unknown;
  label?: unknown;
  medias?: Array<{ streams?: NgStream[] }>;
}

/**
 * Sum the per-stream counters of an ng `query` reply into one entry per tag. rtpengine counts on
 * the stream that receives, so a tag's counters are what that side sent; `<untagged …>` entries
 * are sides that have not answered yet.
 */
export function sessionInfoFromQuery(callId: string, reply: NgDictionary): MediaSessionInfo {
  const tags = (reply.tags ?? {}) as Record<string, NgTag>;
  const legs: MediaLegStats[] = Object.entries(tags).map(([key, t]) => {
    const rtp = { packets: 0, bytes: 0 };
    const rtcp = { packets: 0, bytes: 0 };
    for (const media of t.medias ?? []) {
      for (const stream of media.streams ?? []) {
        const into = Array.isArray(stream.flags) && stream.flags.includes('RTCP') ? rtcp : rtp;
        const c = counter(stream.stats);
        into.packets += c.packets;
        into.bytes += c.bytes;
      }
    }
    const tag = typeof t.tag === 'string' ? t.tag : key;
    return { tag, ...(typeof t.label === 'string' ? { label: t.label } : {}), rtp, rtcp };
  });
  return { callId, ...(typeof reply.created === 'number' ? { createdAt: reply.created } : {}), legs };
}
