/**
 * A dialog between its creation and the moment a bridge takes it over (media answer, call-service
 * bookkeeping, tieDialogs) has no 'modify' listener, and drachtio-srf then answers a re-INVITE by
 * itself with our last SDP — a phone that puts the call on hold at once would be told "sendrecv"
 * and the other phone never hears of it. Until the bridge attaches, a re-INVITE gets 491 Request
 * Pending (RFC 3261 §14.2), and the phone retries after its 2.1–4 s back-off.
 */
import type Srf from 'drachtio-srf';

const pending = (_req: Srf.SrfRequest, res: Srf.SrfResponse): void => {
  res.send(491);
};

/** Answer re-INVITEs with 491 until {@link takeOverReinvites} (the bridge) replaces this. */
export function guardReinvites(dialog: Srf.Dialog): Srf.Dialog {
  dialog.on('modify', pending);
  return dialog;
}

/** The bridge's own handling replaces the guard (and any earlier bridge's, after a transfer). */
export function takeOverReinvites(dialog: Srf.Dialog): void {
  dialog.removeAllListeners('modify');
}

/**
 * srf.createUAS, guarded from the start: the callback form runs in the same tick as srf creates
 * the dialog, so no re-INVITE read from the same chunk of the engine's stream can slip in between
 * (the promise form resumes a microtask later).
 */
export function createGuardedUas(srf: Srf, req: Srf.SrfRequest, res: Srf.SrfResponse, opts: { localSdp: string }): Promise<Srf.Dialog> {
  return new Promise((resolve, reject) => {
    const done = (err: unknown, dialog?: Srf.Dialog): void => {
      if (err || !dialog) return reject(err instanceof Error ? err : new Error(String(err)));
      resolve(guardReinvites(dialog));
    };
    (srf.createUAS as unknown as (q: unknown, s: unknown, o: unknown, cb: typeof done) => void).call(srf, req, res, opts, done);
  });
}
