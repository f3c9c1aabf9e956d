/**
 * Where a number goes once the dialplan has said "local": an extension (with its DND, call limit
 * and forwarding settings) or a ring group (with its fallback). Forward targets and fallbacks are
 * numbers routed through the dialplan again, so a forward to a ring group works like dialling it;
 * each such hop is bounded (max hops, no extension twice on one call's path) so that two phones
 * forwarding to each other end instead of looping.
 */
import type { Logger } from '../../obs/logger.js';
import type { CallPartyInfo, RingPlan, RouteTraceEntry } from '../../sip/calls/ports.js';
import { listExtensions, type Db, type Extension } from '../../store/index.js';
import { matchRule, type Dialplan } from './dialplan.js';
import type { Lookup } from './dialplan.schema.js';
import type { ExtensionActivity, RingGroupResolver, RingGroupTarget } from './ring-group-port.js';
import { chainPlan, endPlan, singleStepPlan } from './ring-plans.js';

/** A routable number's outcome: nothing to ring (answer `sipStatus`), or a plan to ring. */
export type Target =
  | { kind: 'reject'; sipStatus: number; reason: string; callee: CallPartyInfo }
  | { kind: 'ring'; callee: CallPartyInfo; plan: RingPlan; ringTimeoutMs: number | null };

/** Everything one route() call shares while it resolves numbers (and later, while its plan runs). */
export interface RouteContext {
  db: Db;
  log: Logger;
  dialplan: Dialplan;
  activity: ExtensionActivity;
  ringGroups: RingGroupResolver | undefined;
  tenantId: string;
  at: number;
  trace: RouteTraceEntry[];
  maxForwardHops: number;
  defaultRingTimeoutMs: number;
  /** Forward on no answer without its own delay rings this long first. */
  defaultNoAnswerMs: number;
}

/**
 * The extensions and groups already on this call's path (the caller first), and how many forwards
 * led here. Immutable: each branch of a plan carries its own.
 */
export interface RoutePath {
  hops: number;
  visited: ReadonlySet<string>;
}

export const extKey = (id: string): string => `ext:${id}`;
const groupKey = (number: string): string => `group:${number}`;

const note = (ctx: RouteContext, step: string, detail: string): void => {
  ctx.trace.push({ step, detail });
};

async function findExtension(ctx: RouteContext, number: string): Promise<Extension | undefined> {
  return (await listExtensions(ctx.db, ctx.tenantId, { number, limit: 1 })).items[0];
}

/** The extension's party as the caller and the CDR see it: the dialled number, its caller ID name (else display name). */
export function partyOf(ext: Extension, dialed: string): CallPartyInfo {
  return { number: dialed, name: ext.callerIdName ?? ext.displayName, extensionId: ext.id };
}

/** `number` looked up as each of `lookups` in order; 404 when it is none of them. */
export async function resolveLocal(ctx: RouteContext, number: string, lookups: readonly Lookup[], path: RoutePath): Promise<Target | { kind: 'not_followed'; reason: string }> {
  for (const lookup of lookups) {
    if (lookup === 'extension') {
      const ext = await findExtension(ctx, number);
      if (!ext) {
        note(ctx, 'lookup', `${number}: no extension`);
        continue;
      }
      if (path.visited.has(extKey(ext.id))) return { kind: 'not_followed', reason: `extension ${ext.number} is already on this call's path (a forwarding loop)` };
      return extensionTarget(ctx, ext, number, path);
    }
    if (!ctx.ringGroups) {
      note(ctx, 'lookup', `${number}: ring groups are not available`);
      continue;
    }
    const onPath = new Set([...path.visited].filter((k) => k.startsWith(extKey(''))).map((k) => k.slice(extKey('').length)));
    const group = await ctx.ringGroups.resolve(ctx.tenantId, number, { excludeExtensionIds: onPath });
    if (!group) {
      note(ctx, 'lookup', `${number}: no ring group`);
      continue;
    }
    if (path.visited.has(groupKey(number))) return { kind: 'not_followed', reason: `ring group ${number} is already on this call's path (a fallback loop)` };
    return groupTarget(ctx, group, number, path);
  }
  return { kind: 'reject', sipStatus: 404, reason: `${number} is no ${lookups.join(' or ').replace('_', ' ')}`, callee: { number, name: null, extensionId: null } };
}

/**
 * A forward target (or fallback) routed again through the dialplan. Returns why it was not
 * followed when it cannot be (too many hops, a loop, a feature code, no rule), so the caller
 * falls back to what it would have done without the forward.
 */
export async function routeForward(ctx: RouteContext, number: string, why: string, path: RoutePath): Promise<Target | { kind: 'not_followed'; reason: string }> {
  if (path.hops >= ctx.maxForwardHops) return notFollowed(ctx, why, number, `more than ${ctx.maxForwardHops} forwards on one call`);
  note(ctx, 'forward', `${why} → ${number}`);
  const match = matchRule(ctx.dialplan, number, ctx.at, ctx.trace);
  if (!match) return notFollowed(ctx, why, number, 'no dialplan rule matches it');
  const action = match.rule.action;
  if (action.type === 'feature') return notFollowed(ctx, why, number, 'a feature code cannot be a forward target');
  if (action.type === 'reject') return { kind: 'reject', sipStatus: action.sip_status, reason: action.reason, callee: { number, name: null, extensionId: null } };
  const target = await resolveLocal(ctx, number, action.lookup, { hops: path.hops + 1, visited: path.visited });
  if (target.kind === 'not_followed') return notFollowed(ctx, why, number, target.reason);
  if (target.kind === 'reject') note(ctx, 'forward', `${why} → ${number}: ${target.reason} (${target.sipStatus})`);
  return target;
}

function notFollowed(ctx: RouteContext, why: string, number: string, reason: string): { kind: 'not_followed'; reason: string } {
  note(ctx, 'forward', `${why} → ${number} not followed: ${reason}`);
  return { kind: 'not_followed', reason };
}

/** What the call does once it moved on to `t`: ring it, answer with its refusal (486 of a DND target), or (not followed) end as it was. */
function planOf(t: Target | { kind: 'not_followed' }): RingPlan | undefined {
  if (t.kind === 'ring') return t.plan;
  if (t.kind === 'reject') return endPlan(t.sipStatus, t.reason);
  return undefined;
}

/** Why the extension cannot take a call now (DND, at its limit), or undefined. */
function busyReason(ctx: RouteContext, ext: Extension): string | undefined {
  if (ext.dnd) return 'do not disturb is on';
  const active = ctx.activity.activeCallCount(ext.id);
  if (active >= ext.maxConcurrentCalls) return `at its call limit (${active} of ${ext.maxConcurrentCalls})`;
  return undefined;
}

/**
 * One extension, its settings applied in the order a user expects: forward always first (the phone
 * does not ring at all), then busy (DND or the call limit → forward on busy, else 486), then ring
 * it — for `no_answer_seconds` when forward on no answer is set — and forward on its outcome.
 */
async function extensionTarget(ctx: RouteContext, ext: Extension, dialed: string, path: RoutePath): Promise<Target> {
  const callee = partyOf(ext, dialed);
  const here: RoutePath = { hops: path.hops, visited: new Set([...path.visited, extKey(ext.id)]) };
  const label = `extension ${ext.number}`;
  if (ext.status === 'disabled') return { kind: 'reject', sipStatus: 404, reason: `${label} is disabled`, callee };
  const fwd = ext.forward;

  if (fwd.always) {
    const t = await routeForward(ctx, fwd.always, `${label} forwards always`, here);
    if (t.kind === 'ring') return { ...t, callee };
    // A busy or refusing target answers the caller; a broken forward (no such number, a loop) is
    // ignored so that the extension still rings rather than the call failing for a stale setting.
    if (t.kind === 'reject' && t.sipStatus !== 404) return { ...t, callee };
    note(ctx, 'extension', `${label}: forward always not usable, ringing ${label} itself`);
  }

  const busy = busyReason(ctx, ext);
  if (busy) {
    note(ctx, 'extension', `${label}: ${busy} → busy`);
    if (fwd.busy) {
      const t = await routeForward(ctx, fwd.busy, `${label} forward on busy`, here);
      if (t.kind === 'ring') return { ...t, callee };
    }
    return { kind: 'reject', sipStatus: 486, reason: `${label}: ${busy}`, callee };
  }

  const noAnswerMs = fwd.noAnswer ? (fwd.noAnswerSeconds !== undefined ? fwd.noAnswerSeconds * 1000 : ctx.defaultNoAnswerMs) : null;
  note(ctx, 'extension', `${label}: ring${noAnswerMs !== null ? ` for ${noAnswerMs / 1000} s, then forward on no answer to ${fwd.noAnswer}` : ''}${fwd.busy ? `; forward on busy to ${fwd.busy}` : ''}`);
  const plan = chainPlan(singleStepPlan({ extensionIds: [ext.id], timeoutMs: noAnswerMs, reason: label }), async (_end, last) => {
    if (!last) return undefined;
    // 480 without a timeout: no phone registered — as unanswered as a timeout, so the no-answer forward applies.
    const kind = last.sipStatus === 486 && !last.timedOut ? 'busy' : last.timedOut || last.sipStatus === 480 ? 'no answer' : undefined;
    const to = kind === 'busy' ? fwd.busy : kind === 'no answer' ? fwd.noAnswer : undefined;
    if (!kind || !to) return undefined;
    return planOf(await routeForward(ctx, to, `${label} forward on ${kind}`, here));
  });
  return { kind: 'ring', callee, plan, ringTimeoutMs: noAnswerMs !== null ? noAnswerMs + ctx.defaultRingTimeoutMs : null };
}

/** A ring group's plan, then its fallback number routed again when every member was tried. */
function groupTarget(ctx: RouteContext, group: RingGroupTarget, number: string, path: RoutePath): Target {
  ctx.trace.push(...group.trace);
  const here: RoutePath = { hops: path.hops, visited: new Set([...path.visited, groupKey(number)]) };
  const fallback = group.fallbackNumber;
  if (fallback === null) return { kind: 'ring', callee: group.callee, plan: group.plan, ringTimeoutMs: group.ringTimeoutMs };
  const plan = chainPlan(group.plan, async () => {
    return planOf(await routeForward(ctx, fallback, `ring group ${number} fallback`, here));
  });
  return { kind: 'ring', callee: group.callee, plan, ringTimeoutMs: group.ringTimeoutMs + ctx.defaultRingTimeoutMs };
}
