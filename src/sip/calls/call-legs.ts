/**
 * The {@link CallLegs} of a bridged call: what the call service (and the live-calls API through
 * it) may do to a call without speaking SIP.
 *
 * Hold from the PBX re-INVITEs each phone with the SDP it already has (rtpengine's addresses)
 * marked `a=inactive`, and unhold with `a=sendrecv`. Chosen over rtpengine's block-media because
 * the phones then know they are held (their display shows it, they stop sending, no RTP timeout
 * fires), rtpengine's session stays as it is (no re-anchoring: the addresses do not change), and
 * the anchor port needs nothing new. When music on hold arrives, the held side gets `sendonly`
 * from rtpengine's player instead.
 */
import { SwitchboardError } from '../../shared/errors.js';
import type { Bridge, BridgeDeps } from './bridge-types.js';
import { startBlindTransfer } from './blind-transfer.js';
import { hangUp } from './fork.js';
import type { CallLegs } from './ports.js';
import { withDirection } from './sdp-direction.js';

export function callLegsOf(bridge: Bridge, d: BridgeDeps): CallLegs {
  return {
    hangUp: () => bridge.hangUp(),
    hold: () => pbxHold(bridge, true, d),
    unhold: () => pbxHold(bridge, false, d),
    async transfer(number) {
      // The caller's side is the transferee; the callee's leg is released once the target answers.
      const started = await startBlindTransfer(bridge, bridge.caller, null, number, d);
      if (!started.ok) throw new SwitchboardError('call.transfer_failed', `transfer to ${number} failed with ${started.sipStatus}`, { sipStatus: started.sipStatus });
      void started.done.then((r) => {
        if (r.ok) hangUp(bridge.callee.dialog);
      });
    },
    cancelTransfer() {
      const pending = bridge.pendingTransfer;
      if (!pending) return Promise.resolve(false);
      pending.cancel();
      return Promise.resolve(true);
    },
  };
}

async function pbxHold(bridge: Bridge, on: boolean, d: BridgeDeps): Promise<void> {
  if (bridge.over) throw new SwitchboardError('call.not_found', 'the call has ended', { sipStatus: 481 });
  if (bridge.pbxHeld === on) return;
  if (bridge.busy) throw new SwitchboardError('call.busy', 'a renegotiation or transfer of this call is in progress', { sipStatus: 491 });
  bridge.busy = true;
  try {
    await Promise.all(
      [bridge.caller, bridge.callee].map(async (side) => {
        side.sdp = await side.dialog.modify(withDirection(side.dialog.local.sdp, on ? 'inactive' : 'sendrecv'));
      }),
    );
    bridge.pbxHeld = on;
  } finally {
    bridge.busy = false;
  }
  await d.calls.held(bridge.callId, on, 'api');
}
