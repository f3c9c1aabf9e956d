/**
 * An answered call: the caller's dialog (UAS) and the answering phone's (UAC), tied so a BYE on
 * either ends both, with the media session released and the call service told exactly once.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import { hangUp } from './fork.js';
import type { CallControl } from './ports.js';

export interface BridgedCall {
  callId: string;
  /** The caller's side. */
  uas: Srf.Dialog;
  /** The answering phone's side. */
  uac: Srf.Dialog;
}

export function tieDialogs(call: BridgedCall, d: { calls: CallControl; log: Logger; releaseMedia: () => void }): void {
  let ended = false;
  const end = (other: Srf.Dialog): void => {
    if (ended) return;
    ended = true;
    hangUp(other);
    d.releaseMedia();
    void d.calls.hungUp(call.callId);
  };
  call.uas.on('destroy', () => end(call.uac));
  call.uac.on('destroy', () => end(call.uas));
  d.log.debug({ callId: call.callId }, 'call: bridged');
}
