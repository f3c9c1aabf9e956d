/**
 * REFER inside a bridged call (RFC 3515): a phone transfers the party it talks to. Refer-To
 * without Replaces is a blind transfer (RFC 5589 §6), with Replaces an attended one (§7). The
 * REFER is accepted (202) once it parses, then the implicit subscription reports progress by
 * NOTIFY (100 Trying, 180 while the target rings, the final status); on success the transferor's
 * leg is released with a BYE after the final NOTIFY, on failure the call goes on as it was.
 */
import type Srf from 'drachtio-srf';
import { type Bridge, type BridgeDeps, type BridgeSide, otherSide } from './bridge-types.js';
import { startBlindTransfer, type TransferResult } from './blind-transfer.js';
import { attendedTransfer } from './attended-transfer.js';
import { hangUp } from './fork.js';
import { parseReferTo } from './replaces.js';
import { referNotify } from './sipfrag.js';

/** How long the final NOTIFY may take before the transferor is released anyway. */
const FINAL_NOTIFY_WAIT_MS = 2000;

export async function handleRefer(bridge: Bridge, transferor: BridgeSide, req: Srf.SrfRequest, res: Srf.SrfResponse, d: BridgeDeps): Promise<void> {
  const log = d.log.child({ callId: bridge.callId, transferor: transferor.role });
  const target = req.has('Refer-To') ? parseReferTo(req.get('Refer-To')) : undefined;
  if (!target) return void res.send(400, 'Bad Refer-To', {});
  if (bridge.over) return void res.send(481);
  if (bridge.busy || bridge.pendingTransfer) return void res.send(491);
  res.send(202);
  log.info({ target: target.uri, attended: target.replaces !== undefined }, 'call: REFER accepted');

  let ringingNotified = false;
  const notify = (status: number): Promise<void> =>
    (transferor.dialog.request(referNotify(status) as unknown as Srf.SrfRequest) as Promise<unknown>).then(
      () => undefined,
      (err: unknown) => log.debug({ err, status }, 'call: REFER NOTIFY failed'),
    );
  void notify(100);

  let result: TransferResult;
  if (target.replaces) {
    result = await attendedTransfer(bridge, transferor, target.replaces, d);
  } else {
    const started = await startBlindTransfer(bridge, otherSide(bridge, transferor), transferor, target.user, d, () => {
      if (ringingNotified) return;
      ringingNotified = true;
      void notify(180);
    });
    result = started.ok ? await started.done : started;
  }
  if (!result.ok) return void (await notify(result.sipStatus));
  await Promise.race([notify(200), new Promise<void>((r) => d.clock.setTimeout(() => r(), FINAL_NOTIFY_WAIT_MS))]);
  // The transferor usually hangs up itself on the final NOTIFY; if not, it is released here.
  hangUp(transferor.dialog);
}
