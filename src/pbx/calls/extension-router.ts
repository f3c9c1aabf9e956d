/**
 * The routing of a build without a dialplan: a dialled number is an extension of the caller's
 * tenant or nothing. Unknown or disabled → 404, do-not-disturb or at its call limit → 486, else
 * ring all its contacts until the call's ring timeout. The dialplan router (src/pbx/dialplan)
 * supersedes it with feature codes, forwarding and ring groups.
 */
import type { CallRouter, RingPlan, RouteDecision } from '../../sip/calls/ports.js';
import { findDigestCredentials, getExtension, type Db } from '../../store/index.js';
import type { ExtensionActivity } from '../dialplan/ring-group-port.js';

/** A plan of one step: ring these extensions; its outcome is the call's. */
export function singleStepPlan(extensionIds: string[], reason: string): RingPlan {
  return {
    first: () => Promise.resolve({ kind: 'step', extensionIds, timeoutMs: null, reason }),
    next: (outcome) => Promise.resolve({ kind: 'end', sipStatus: outcome.sipStatus, reason: 'nobody answered' }),
    answered: () => undefined,
  };
}

export function extensionRouter(deps: { db: Db; calls: ExtensionActivity }): CallRouter {
  return {
    async route(input): Promise<RouteDecision> {
      const creds = input.dialed === '' ? undefined : await findDigestCredentials(deps.db, input.tenantId, input.dialed);
      const unknown = { number: input.dialed, name: null, extensionId: null };
      if (!creds || creds.status !== 'active') {
        return { kind: 'reject', sipStatus: 404, reason: 'no such extension', callee: unknown, trace: [{ step: 'extension', detail: `${input.dialed}: none active` }] };
      }
      const ext = await getExtension(deps.db, input.tenantId, creds.extensionId);
      const callee = { number: ext.callerIdNumber ?? ext.number, name: ext.callerIdName ?? ext.displayName, extensionId: ext.id };
      const trace = [{ step: 'extension', detail: `${ext.number} (${ext.id})` }];
      if (ext.dnd) return { kind: 'reject', sipStatus: 486, reason: 'do not disturb', callee, trace };
      if (deps.calls.activeCallCount(ext.id) >= ext.maxConcurrentCalls) return { kind: 'reject', sipStatus: 486, reason: 'at its call limit', callee, trace };
      return { kind: 'ring', callee, plan: singleStepPlan([ext.id], `extension ${ext.number}`), trace, ringTimeoutMs: null };
    },
  };
}
