import { SwitchboardError } from '../shared/errors.js';

/**
 * Why a media command failed. `unavailable`: no answer in time, or the socket failed: the anchor
 * may be down, so a caller may retry elsewhere or fail the call with 503. `rejected`: the anchor
 * answered with an error (bad SDP, unknown call) that a retry would repeat.
 */
export type MediaErrorCode = 'media.unavailable' | 'media.rejected';

/** A failed media command; `reason` is rtpengine's `error-reason` when it gave one. */
export class MediaError extends SwitchboardError {
  declare readonly code: MediaErrorCode;

  constructor(
    code: MediaErrorCode,
    message: string,
    readonly command: string,
    readonly reason?: string,
    options: { cause?: unknown } = {},
  ) {
    // 503 for both: the call cannot be set up with media right now (RFC 3261 §21.5.4).
    super(code, message, { ...options, sipStatus: 503, httpStatus: 503 });
    this.name = 'MediaError';
  }
}
