/**
 * The seam between the dialplan (which numbers go where) and ring groups (how a group rings its
 * members): the router asks the resolver for a dialled number, and composes what comes back with
 * the group's fallback, which it routes like any other number.
 */
import type { CallPartyInfo, RingPlan, RouteTraceEntry } from '../../sip/calls/ports.js';

export interface RingGroupTarget {
  /** The group as the caller and the CDR see it: its number and name, no extension. */
  callee: CallPartyInfo;
  /** The strategy's steps (simultaneous, sequential by priority, round robin); ends when every member was tried. */
  plan: RingPlan;
  /** Routed by the dialplan when the plan ends unanswered; null: the caller gets the plan's final status. */
  fallbackNumber: string | null;
  /** The group's overall ring time; the call's ring limit while the group rings. */
  ringTimeoutMs: number;
  trace: RouteTraceEntry[];
}

export interface RingGroupResolver {
  /**
   * The ring group with this number in the tenant, ready to ring; undefined when there is none.
   * `excludeExtensionIds`: extensions already on the call (the caller, a forwarding extension),
   * which are not rung — a member calling its own group does not ring its own phone.
   */
  resolve(tenantId: string, number: string, opts?: { excludeExtensionIds?: ReadonlySet<string> }): Promise<RingGroupTarget | undefined>;
}

/** What routing needs to know about live calls: an extension at its `max_concurrent_calls` is busy. */
export interface ExtensionActivity {
  activeCallCount(extensionId: string): number;
}
