/**
 * Feature codes dialled from a phone (`*78` DND on…): they change the CALLER's own extension. The
 * decision is built at routing time (so routing/simulate can show it without applying it); `run()`
 * writes the change through the same repository function and audit action as
 * `PATCH /api/v1/extensions/{id}`, so the API shows it at once, and the registrar's caches (which
 * hold credentials only, keyed on the store's change counter) are unaffected.
 */
import type { Logger } from '../../obs/logger.js';
import type { RouteDecision, RouteTraceEntry } from '../../sip/calls/ports.js';
import { appendAudit, getExtension, inTransaction, updateExtensionCallSettings, type Db, type Extension, type ExtensionCallSettings } from '../../store/index.js';
import type { Feature } from './dialplan.schema.js';

const LABEL: Record<Feature, string> = {
  forward_always_on: 'Call forwarding on',
  forward_always_off: 'Call forwarding off',
  dnd_on: 'Do not disturb on',
  dnd_off: 'Do not disturb off',
  voicemail: 'Voicemail',
};

/** Same rule as the API's forward targets (extension.schemas.ts): what a phone could dial. */
const FORWARD_TARGET = /^\+?[0-9*#]{2,32}$/;

export interface FeatureContext {
  db: Db;
  log: Logger;
  tenantId: string;
  caller: Extension;
  /** What was dialled, e.g. `*721003`: the CDR's callee number. */
  dialed: string;
  trace: RouteTraceEntry[];
}

/** The decision for a feature code: a feature with `run()`, or a reject when it cannot apply. */
export function featureDecision(feature: Feature, groups: Record<string, string>, ctx: FeatureContext): RouteDecision {
  const callee = { number: ctx.dialed, name: LABEL[feature], extensionId: null };
  const reject = (sipStatus: number, reason: string): RouteDecision => {
    ctx.trace.push({ step: 'feature', detail: `${reason} (${sipStatus})` });
    return { kind: 'reject', sipStatus, reason, callee, trace: ctx.trace };
  };
  let change: (current: Extension) => ExtensionCallSettings;
  switch (feature) {
    case 'voicemail':
      return reject(501, 'voicemail is not available yet');
    case 'dnd_on':
    case 'dnd_off': {
      const dnd = feature === 'dnd_on';
      change = () => ({ dnd });
      break;
    }
    case 'forward_always_off':
      change = (current) => ({ forward: { ...current.forward, always: null } });
      break;
    case 'forward_always_on': {
      const target = groups.target ?? '';
      if (!FORWARD_TARGET.test(target)) return reject(484, `forward target "${target}" is not a number`);
      // Forwarding to oneself would make every call to this extension a loop.
      if (target === ctx.caller.number) return reject(482, `extension ${ctx.caller.number} cannot forward to itself`);
      change = (current) => ({ forward: { ...current.forward, always: target } });
      break;
    }
  }
  ctx.trace.push({ step: 'feature', detail: `${LABEL[feature]} for extension ${ctx.caller.number}` });
  return {
    kind: 'feature',
    code: ctx.dialed,
    callee,
    trace: ctx.trace,
    run: () => applyFeature(ctx, change),
  };
}

/** Reads the extension afresh in the transaction, so a forward change merges with the stored settings of that moment. */
async function applyFeature(ctx: FeatureContext, change: (current: Extension) => ExtensionCallSettings): Promise<{ ok: true } | { ok: false; sipStatus: number; reason: string }> {
  const { db, tenantId, caller } = ctx;
  try {
    await inTransaction(db, async (trx) => {
      const current = await getExtension(trx, tenantId, caller.id);
      const settings = change(current);
      await updateExtensionCallSettings(trx, tenantId, caller.id, settings);
      await appendAudit(trx, {
        tenantId,
        actorType: 'extension',
        actorId: caller.id,
        action: 'extension.updated',
        targetType: 'extension',
        targetId: caller.id,
        // The same shape as the API's entry (field names), plus where the change came from.
        details: { number: current.number, fields: Object.keys(settings).sort(), source: 'feature_code', code: ctx.dialed },
      });
    });
    ctx.log.info({ extensionId: caller.id, code: ctx.dialed }, 'feature code applied');
    return { ok: true };
  } catch (err) {
    ctx.log.warn({ err, extensionId: caller.id, code: ctx.dialed }, 'feature code failed');
    return { ok: false, sipStatus: 500, reason: 'the change could not be stored' };
  }
}
