import type { EventBus } from '../../events/event-bus.js';
import type { PbxEvents } from '../../events/pbx-events.js';
import type { Clock } from '../../shared/clock.js';
import type { CallOutbox } from '../events/call-outbox.js';

interface PresenceEdge {
  extensionId: string;
  status: 'in_call' | 'idle';
  activeCalls: number;
}

/**
 * The live call count of each extension (what call limits compare with) and the presence it
 * implies: `in_call` from the first live call, `idle` after the last one. Only those edges are
 * published, on the bus and as `extension.status` in the outbox. Owned by {@link CallService}.
 */
export class PresenceTracker {
  private readonly perExtension = new Map<string, number>();

  constructor(private readonly opts: { bus: EventBus<PbxEvents>; clock: Clock; outbox?: CallOutbox }) {}

  /** How many live calls an extension is party to now. */
  activeCallCount(extensionId: string): number {
    return this.perExtension.get(extensionId) ?? 0;
  }

  /** Counts a call of `tenantId` against (+1) or off (-1) each extension, then publishes the edges crossed. */
  track(tenantId: string, extensionIds: readonly string[], delta: 1 | -1): Promise<void> {
    // Every count moves before anything awaits, so a call ending meanwhile never sees half of them.
    return this.report(tenantId, extensionIds.map((extensionId) => this.count(extensionId, delta)));
  }

  /** Moves an extension's live call count; returns the presence edge it crossed, if any. */
  private count(extensionId: string, delta: 1 | -1): PresenceEdge | undefined {
    const count = Math.max(0, (this.perExtension.get(extensionId) ?? 0) + delta);
    if (count === 0) this.perExtension.delete(extensionId);
    else this.perExtension.set(extensionId, count);
    // Presence changes only at the edges: the first live call and the end of the last one.
    if (delta === 1 && count === 1) return { extensionId, status: 'in_call', activeCalls: count };
    if (delta === -1 && count === 0) return { extensionId, status: 'idle', activeCalls: count };
    return undefined;
  }

  /**
   * Publishes presence edges. Presence is this in-memory count, not a stored row, so each outbox
   * event is its own transaction (CallOutbox.writeAlone; a failed write is logged).
   */
  private async report(tenantId: string, edges: ReadonlyArray<PresenceEdge | undefined>): Promise<void> {
    const outbox = this.opts.outbox;
    for (const edge of edges) {
      if (!edge) continue;
      const at = new Date(this.opts.clock.now()).toISOString();
      this.opts.bus.emit('extension.status', { tenantId, ...edge, at });
      if (outbox) await outbox.writeAlone(await outbox.presence(tenantId, edge.extensionId, edge.status, edge.activeCalls, at));
    }
  }
}
