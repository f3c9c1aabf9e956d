import type { Logger } from '../../obs/logger.js';
import { MediaError } from '../media-error.js';
import type { AnswerRequest, DeleteRequest, MediaAnchor, MediaSessionInfo, OfferRequest, SdpResult } from '../ports.js';
import type { NgClient } from './ng-client.js';
import { answerParams, offerParams, sessionInfoFromQuery } from './ng-params.js';

export interface RtpengineAnchorOptions {
  client: NgClient;
  /**
   * Prefix of every call id this process sends to rtpengine, e.g. `sb-3f9a12c0-`. It marks the
   * sessions as ours so that after a crash the next start can find and delete exactly them
   * (`list` + prefix), even on an rtpengine shared with other Switchboards or other software.
   * It must be stable across restarts of one instance and differ between instances; main derives
   * it from the instance's secret key.
   */
  ownerTag: string;
  log: Logger;
}

/** How many sessions one `list` may return; rtpengine's default (32) would hide stale ones on a busy box. */
const listLimit = 100_000;

/** A release is tried this often when rtpengine does not answer (each try waits the client's timeout). */
const DELETE_ATTEMPTS = 3;

/** rtpengine's wording when a call it does not know is queried or deleted with the `fatal` flag. */
const unknownCall = /unknown call|not found/i;

/**
 * {@link MediaAnchor} over one rtpengine's ng protocol. It remembers which sessions it opened so
 * that `releaseAll` at shutdown deletes them, and `sweepStale` at start deletes what a previous run
 * of this instance left behind (kill -9, power loss).
 */
export class RtpengineAnchor implements MediaAnchor {
  readonly kind = 'rtpengine' as const;
  readonly ownerTag: string;
  private readonly client: NgClient;
  private readonly log: Logger;
  /** Sessions offered and not yet deleted, by the caller's call id. */
  private readonly open = new Set<string>();

  constructor(opts: RtpengineAnchorOptions) {
    if (!/^[A-Za-z0-9._-]+$/.test(opts.ownerTag)) throw new Error(`owner tag must be token characters, got ${JSON.stringify(opts.ownerTag)}`);
    this.client = opts.client;
    this.ownerTag = opts.ownerTag;
    this.log = opts.log;
  }

  /** How many sessions this process has open; for metrics and tests. */
  get openSessions(): number {
    return this.open.size;
  }

  async offer(req: OfferRequest): Promise<SdpResult> {
    // Remembered before the command: if the reply is lost, rtpengine may still hold the session.
    this.open.add(req.callId);
    return { sdp: sdpOf(await this.client.send('offer', offerParams(req, this.wire(req.callId))), 'offer') };
  }

  async answer(req: AnswerRequest): Promise<SdpResult> {
    return { sdp: sdpOf(await this.client.send('answer', answerParams(req, this.wire(req.callId))), 'answer') };
  }

  async delete(req: DeleteRequest): Promise<void> {
    const params = { 'call-id': this.wire(req.callId), ...(req.fromTag !== undefined ? { 'from-tag': req.fromTag } : {}) };
    for (let attempt = 1; ; attempt++) {
      try {
        // rtpengine 10.5 answers "ok" with a warning for an unknown call; older ones an error.
        await this.client.send('delete', params);
        break;
      } catch (err) {
        if (err instanceof MediaError && err.code === 'media.rejected' && unknownCall.test(err.reason ?? '')) break;
        // A release lost to a dropped datagram would hold the call's ports until rtpengine's own
        // timeout; deleting twice is harmless (the second finds no call), so try again.
        if (!(err instanceof MediaError && err.code === 'media.unavailable') || attempt >= DELETE_ATTEMPTS) throw err;
      }
    }
    if (req.fromTag === undefined) this.open.delete(req.callId);
  }

  async query(callId: string): Promise<MediaSessionInfo | undefined> {
    try {
      return sessionInfoFromQuery(callId, await this.client.send('query', { 'call-id': this.wire(callId) }));
    } catch (err) {
      if (err instanceof MediaError && err.code === 'media.rejected' && unknownCall.test(err.reason ?? '')) return undefined;
      throw err;
    }
  }

  async ping(): Promise<void> {
    const reply = await this.client.send('ping');
    if (reply.result !== 'pong') throw new MediaError('media.unavailable', `rtpengine answered ping with ${JSON.stringify(reply.result)}`, 'ping');
  }

  async list(): Promise<string[]> {
    const reply = await this.client.send('list', { limit: listLimit });
    const calls = Array.isArray(reply.calls) ? reply.calls.filter((c): c is string => typeof c === 'string') : [];
    return calls.filter((c) => c.startsWith(this.ownerTag)).map((c) => c.slice(this.ownerTag.length));
  }

  /** Delete every session this process still holds (shutdown). Failures are logged, not thrown. */
  async releaseAll(): Promise<number> {
    const ids = [...this.open];
    await Promise.all(ids.map((callId) => this.delete({ callId }).catch((err: unknown) => this.log.warn({ err, callId }, 'could not release media session'))));
    return ids.length;
  }

  /**
   * Delete the sessions a previous run of this instance left in rtpengine (its owner tag, and not
   * opened by this run). Run at start, before any call: after a crash nobody will ever delete them,
   * and they would hold ports until rtpengine's own timeout.
   */
  async sweepStale(): Promise<string[]> {
    const stale = (await this.list()).filter((id) => !this.open.has(id));
    for (const callId of stale) await this.delete({ callId });
    if (stale.length > 0) this.log.info({ count: stale.length }, 'deleted media sessions left in rtpengine by a previous run');
    return stale;
  }

  close(): void {
    this.client.close();
  }

  private wire(callId: string): string {
    return this.ownerTag + callId;
  }
}

function sdpOf(reply: Record<string, unknown>, command: string): string {
  if (typeof reply.sdp !== 'string') throw new MediaError('media.rejected', `rtpengine answered "${command}" without an SDP`, command);
  return reply.sdp;
}
