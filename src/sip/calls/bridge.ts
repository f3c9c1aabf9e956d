/**
 * An answered call: the caller's dialog and the answering phone's, tied so a BYE on either ends
 * both, with the media session released and the call service told exactly once. A bridge also
 * carries the call's mid-call features — re-INVITEs relayed (hold), REFER (transfer) — and hands
 * its {@link CallLegs} to the call service. A transfer unties a bridge (no BYE) and ties the
 * transferee into a new one.
 */
import type Srf from 'drachtio-srf';
import type { Bridge, BridgeDeps, BridgeSide, SideRole, TieInput } from './bridge-types.js';
import { callLegsOf } from './call-legs.js';
import { hangUp } from './fork.js';
import { relayReinvite } from './reinvite-relay.js';
import { handleRefer } from './refer-handler.js';
import { takeOverReinvites } from './reinvite-guard.js';

export function tieDialogs(input: TieInput, d: BridgeDeps): Bridge {
  const log = d.log.child({ callId: input.callId });
  const side = (role: SideRole, s: TieInput['caller']): BridgeSide => ({ role, dialog: s.dialog, party: s.party, tag: s.dialog.sip.remoteTag, sdp: s.sdp, holding: false });
  const caller = side('caller', input.caller);
  const callee = side('callee', input.callee);
  let over = false;
  const listeners: Array<{ dialog: Srf.Dialog; event: string; fn: (...args: never[]) => void }> = [];
  const on = (dialog: Srf.Dialog, event: string, fn: (...args: never[]) => void): void => {
    dialog.on(event as 'destroy', fn as () => void);
    listeners.push({ dialog, event, fn });
  };
  const untie = (): void => {
    for (const l of listeners) l.dialog.removeListener(l.event, l.fn as () => void);
    listeners.length = 0;
    d.registry.remove(bridge);
  };
  const finish = (): void => {
    if (over) return;
    over = true;
    untie();
    bridge.pendingTransfer?.cancel();
    void d.media.delete({ callId: input.callId }).catch((err: unknown) => log.warn({ err }, 'call: media release failed'));
    void d.calls.hungUp(input.callId);
  };
  const bridge: Bridge = {
    callId: input.callId,
    tenantId: input.tenantId,
    siteId: input.siteId,
    sipDomain: input.sipDomain,
    caller,
    callee,
    busy: false,
    pbxHeld: false,
    transferorGone: false,
    get over() {
      return over;
    },
    untie,
    finish,
    hangUp() {
      if (over) return;
      hangUp(caller.dialog);
      hangUp(callee.dialog);
      finish();
    },
  };
  for (const s of [caller, callee]) {
    const other = s === caller ? callee : caller;
    takeOverReinvites(s.dialog);
    on(s.dialog, 'destroy', () => {
      if (over) return;
      if (bridge.pendingTransfer && bridge.transferor === s) {
        // A blind transferor may hang up as soon as its REFER is accepted: the transferee keeps waiting
        // for the target, and is hung up only if the target never answers.
        bridge.transferorGone = true;
        return;
      }
      hangUp(other.dialog);
      finish();
    });
    on(s.dialog, 'modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      relayReinvite(bridge, s, req, res, d).catch((err: unknown) => {
        log.error({ err }, 'call: re-INVITE handling failed');
        if (!res.finalResponseSent) res.send(500);
      });
    });
    on(s.dialog, 'refer', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      handleRefer(bridge, s, req, res, d).catch((err: unknown) => {
        log.error({ err }, 'call: REFER handling failed');
        if (!res.finalResponseSent) res.send(500);
      });
    });
  }
  d.registry.add(bridge);
  d.calls.attachLegs(input.callId, callLegsOf(bridge, d));
  log.debug('call: bridged');
  return bridge;
}
