/**
 * An answered call: the caller's dialog (UAS) and the answering phone's (UAC), tied so a BYE on
 * either ends both, with the media session released and the call service told exactly once. The
 * call service gets the pair as {@link CallLegs}, so the live-calls API can hang it up.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import { SwitchboardError } from '../../shared/errors.js';
import { hangUp } from './fork.js';
import type { CallControl, CallLegs } from './ports.js';

export interface BridgedCall {
  callId: string;
  /** The caller's side. */
  uas: Srf.Dialog;
  /** The answering phone's side. */
  uac: Srf.Dialog;
}

/** Hold and transfer from the PBX are the transfer work's (branch wt-transfer); until it lands they say so. */
const notYet = (what: string) => async (): Promise<never> => {
  throw new SwitchboardError('NOT_IMPLEMENTED', `${what} of a live call is not available yet`, { httpStatus: 501 });
};

export function tieDialogs(call: BridgedCall, d: { calls: CallControl; log: Logger; releaseMedia: () => void }): void {
  let ended = false;
  // A dialog we destroy ourselves emits no 'destroy' (srf removes its listeners), so both are hung up here.
  const end = (...dialogs: Srf.Dialog[]): void => {
    if (ended) return;
    ended = true;
    for (const dialog of dialogs) hangUp(dialog);
    d.releaseMedia();
    void d.calls.hungUp(call.callId);
  };
  call.uas.on('destroy', () => end(call.uac));
  call.uac.on('destroy', () => end(call.uas));
  const legs: CallLegs = {
    hangUp: () => end(call.uas, call.uac),
    hold: notYet('hold'),
    unhold: notYet('unhold'),
    transfer: notYet('transfer'),
    cancelTransfer: notYet('cancelling a transfer'),
  };
  d.calls.attachLegs(call.callId, legs);
  d.log.debug({ callId: call.callId }, 'call: bridged');
}
