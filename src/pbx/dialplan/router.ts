/**
 * The {@link CallRouter} the INVITE handler asks once per call: the dialled number goes through
 * the dialplan's rules, and a local number through the callee's own settings (forwarding, DND,
 * call limit) or a ring group. Everything it decided is in the trace, which routing/simulate shows
 * and the call log keeps. Reads the store on every call, so a setting changed through the API or
 * a feature code applies to the next call.
 */
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { SwitchboardError } from '../../shared/errors.js';
import type { CallPartyInfo, CallRouter, RouteDecision, RouteInput, RouteTraceEntry } from '../../sip/calls/ports.js';
import { getExtension, type Db, type Extension } from '../../store/index.js';
import { matchRule, type Dialplan } from './dialplan.js';
import { featureDecision } from './feature-codes.js';
import type { ExtensionActivity, RingGroupResolver } from './ring-group-port.js';
import { extKey, resolveLocal, type RouteContext } from './targets.js';

export interface CallRouterDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  dialplan: Dialplan;
  /** Live call counts: an extension at its `max_concurrent_calls` is busy. */
  calls: ExtensionActivity;
  /** Ring groups by number; undefined until ring groups exist (numbers then resolve to extensions only). */
  ringGroups: RingGroupResolver | undefined;
  /** Forwards followed on one call before giving up (default 5). */
  maxForwardHops?: number;
  /** The call's usual ring limit (SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS), for plans that need longer (default 45 s). */
  defaultRingTimeoutMs?: number;
  /** How long an extension rings before its forward on no answer when it sets no `no_answer_seconds` (default 20 s). */
  defaultNoAnswerMs?: number;
}

/** What a dialled user part may be once unescaped: digits, letters and the few signs dial strings use. */
const DIALABLE = /^[A-Za-z0-9*#+._-]{1,64}$/;

/** The user part as a phone meant it: `%2A78` is `*78` (RFC 3261 §19.1.2 allows either). */
function unescapeDialed(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function createCallRouter(deps: CallRouterDeps): CallRouter {
  return { route: (input) => route(deps, input) };
}

async function route(deps: CallRouterDeps, input: RouteInput): Promise<RouteDecision> {
  const trace: RouteTraceEntry[] = [];
  const dialed = unescapeDialed(input.dialed);
  const unknown: CallPartyInfo = { number: dialed.slice(0, 64), name: null, extensionId: null };
  const reject = (sipStatus: number, reason: string, callee: CallPartyInfo = unknown): RouteDecision => {
    trace.push({ step: 'decision', detail: `reject ${sipStatus}: ${reason}` });
    return { kind: 'reject', sipStatus, reason, callee, trace };
  };
  if (!DIALABLE.test(dialed)) return reject(404, 'not a dialable number');
  trace.push({ step: 'input', detail: `dialled ${dialed} at ${new Date(input.at).toISOString()}` });

  const caller = await findCaller(deps.db, input.tenantId, input.callerExtensionId);
  if (!caller) return reject(403, 'the calling extension does not exist in this tenant');
  if (caller.status === 'disabled') return reject(403, `the calling extension ${caller.number} is disabled`);

  const match = matchRule(deps.dialplan, dialed, input.at, trace);
  if (!match) return reject(404, 'no dialplan rule matches');
  const action = match.rule.action;
  if (action.type === 'reject') return reject(action.sip_status, action.reason);
  if (action.type === 'feature') return featureDecision(action.feature, match.groups, { db: deps.db, log: deps.log, tenantId: input.tenantId, caller, dialed, trace });

  // The caller's own phones would ring (and the one calling is busy with this very call).
  if (dialed === caller.number && action.lookup.includes('extension')) {
    return reject(486, `extension ${caller.number} called itself`, { number: dialed, name: caller.callerIdName ?? caller.displayName, extensionId: caller.id });
  }
  const ctx: RouteContext = {
    db: deps.db,
    log: deps.log,
    dialplan: deps.dialplan,
    activity: deps.calls,
    ringGroups: deps.ringGroups,
    tenantId: input.tenantId,
    at: input.at,
    trace,
    maxForwardHops: deps.maxForwardHops ?? 5,
    defaultRingTimeoutMs: deps.defaultRingTimeoutMs ?? 45_000,
    defaultNoAnswerMs: deps.defaultNoAnswerMs ?? 20_000,
  };
  // The caller is on the path from the start: a forward back to the caller is a loop, not a call to oneself.
  const target = await resolveLocal(ctx, dialed, action.lookup, { hops: 0, visited: new Set([extKey(caller.id)]) });
  if (target.kind === 'not_followed') return reject(482, target.reason);
  if (target.kind === 'reject') return reject(target.sipStatus, target.reason, target.callee);
  trace.push({ step: 'decision', detail: `ring ${target.callee.number}${target.callee.name ? ` (${target.callee.name})` : ''}` });
  return { kind: 'ring', callee: target.callee, plan: target.plan, trace, ringTimeoutMs: target.ringTimeoutMs };
}

/** The authenticated caller, or undefined when it is gone (deleted between REGISTER and INVITE). */
async function findCaller(db: Db, tenantId: string, id: string): Promise<Extension | undefined> {
  try {
    return await getExtension(db, tenantId, id);
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'EXTENSION_NOT_FOUND') return undefined;
    throw err;
  }
}
