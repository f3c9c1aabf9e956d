/**
 * Bridged calls by their dialogs' ids (Call-ID + both tags, RFC 3261 §12), so an attended
 * transfer's Replaces (RFC 3891) — which names the transferor's dialog with the PBX in its other
 * call — finds that call. A Replaces names tags from its sender's view (from-tag = its own), so a
 * lookup matches the pair in either order.
 */
import type { Bridge, BridgeRegistry, BridgeSide } from './bridge-types.js';

const keyOf = (callId: string, tagA: string, tagB: string): string => (tagA < tagB ? `${callId}\n${tagA}\n${tagB}` : `${callId}\n${tagB}\n${tagA}`);

const dialogKey = (side: BridgeSide): string => keyOf(side.dialog.sip.callId, side.dialog.sip.localTag, side.dialog.sip.remoteTag);

export class DialogRegistry implements BridgeRegistry {
  private readonly byDialog = new Map<string, { bridge: Bridge; side: BridgeSide }>();

  add(bridge: Bridge): void {
    for (const side of [bridge.caller, bridge.callee]) this.byDialog.set(dialogKey(side), { bridge, side });
  }

  remove(bridge: Bridge): void {
    for (const side of [bridge.caller, bridge.callee]) {
      const key = dialogKey(side);
      if (this.byDialog.get(key)?.bridge === bridge) this.byDialog.delete(key);
    }
  }

  find(callId: string, tagA: string, tagB: string): { bridge: Bridge; side: BridgeSide } | undefined {
    return this.byDialog.get(keyOf(callId, tagA, tagB));
  }

  get size(): number {
    return this.byDialog.size;
  }
}
