import type { CoreContext } from '../core/context.js';
import type { TakeOverResult } from './types.js';

/**
 * Hand a pending network request from the drachtio core to the proxy (drachtio-protocol §4.1:
 * pending requests live "until the app's first response or `proxy`"; §4.9 step 1).
 *
 * The request leaves both of the core's maps and its 64 s "app never answered" timer is cleared,
 * because the app will not answer it: the proxy's branches will. A CANCEL for it then no longer
 * finds it in the core, which is why the proxy registers a `cancel` hook with the inbound
 * pipeline. A request the app has already answered (even provisionally) or that was cancelled is
 * no longer pending: drachtio-server reports it as an unknown transaction.
 */
export function takeOverInbound(ctx: CoreContext, txnId: string): TakeOverResult {
  const inbound = ctx.inbound.get(txnId);
  if (!inbound || inbound.answered !== 'none' || inbound.cancelled) return { kind: 'unknown' };
  ctx.finishInbound(inbound);
  return { kind: 'taken', inbound };
}
