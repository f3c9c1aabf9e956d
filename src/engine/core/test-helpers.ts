/**
 * Scenario helpers shared by the UAS-side core tests (uas-calls, uas-early): an app answering with
 * createUAS, an established call from a raw peer, and waiting for a final response.
 */
import type { EngineHarness, Loose } from '../../../test/support/engine-harness.js';
import { cseqOf, PeerCall, sdp, sleep, type RawMessage, type RawSipPeer } from '../../../test/support/raw-sip-peer.js';

/** An app that answers every INVITE with createUAS and hands out the dialogs in order. */
export async function answeringApp(harness: EngineHarness, opts: { headers?: Record<string, string>; onDialog?: (d: Loose) => void } = {}) {
  const dialogs: Loose[] = [];
  const srf = await harness.app((app) => {
    app.invite(async (req: Loose, res: Loose) => {
      const d = await app.createUAS(req, res, { localSdp: sdp(6000), headers: opts.headers ?? {} });
      opts.onDialog?.(d);
      dialogs.push(d);
    });
  }, ['invite']);
  const nextDialog = async (n: number): Promise<Loose> => {
    const deadline = Date.now() + 2000;
    while (dialogs.length < n) {
      if (Date.now() > deadline) throw new Error(`the app never got dialog #${n}`);
      await sleep(5);
    }
    return dialogs[n - 1];
  };
  return { srf, dialogs, nextDialog };
}

/** Peer calls in; the app answers; the peer ACKs. Returns the established call. */
export async function establishedCall(peer: RawSipPeer, invite: Partial<Parameters<PeerCall['invite']>[0]> = {}): Promise<{ call: PeerCall; ok: RawMessage }> {
  const call = new PeerCall(peer);
  await peer.send(call.invite(invite));
  const ok = await peer.waitForResponse(200, 'INVITE');
  call.established(ok);
  await peer.send(call.ack());
  return { call, ok };
}

/** The final response to the request with this CSeq number and method. */
export function finalFor(peer: RawSipPeer, seq: number, method: string, ms = 2000): Promise<RawMessage> {
  return peer.waitFor((m) => (m.status ?? 0) >= 200 && cseqOf(m).seq === seq && cseqOf(m).method === method, ms, `final to ${method} ${seq}`);
}
