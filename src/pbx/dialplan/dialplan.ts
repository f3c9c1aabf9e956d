/**
 * A checked dialplan, ready to match: rules with compiled patterns, tried in order. Matching is
 * pure (number and instant in, rule and trace out), so routing/simulate and the tests see exactly
 * what a call would.
 */
import type { RouteTraceEntry } from '../../sip/calls/ports.js';
import type { DialplanAction, DialplanData, TimeConditionData } from './dialplan.schema.js';
import { timeConditionHolds } from './time-condition.js';

export interface DialplanRule {
  name: string;
  pattern: RegExp;
  when?: string;
  unless?: string;
  action: DialplanAction;
}

export interface Dialplan {
  /** Where it was loaded from, for logs. */
  readonly source: string;
  readonly rules: readonly DialplanRule[];
  readonly timeConditions: Readonly<Record<string, TimeConditionData>>;
}

export interface RuleMatch {
  rule: DialplanRule;
  /** Named groups of the pattern (`target` of `*72<number>`). */
  groups: Record<string, string>;
}

export function compileDialplan(data: DialplanData, source: string): Dialplan {
  return {
    source,
    rules: data.rules.map((r) => ({
      name: r.name,
      pattern: new RegExp(r.match),
      ...(r.when !== undefined && { when: r.when }),
      ...(r.unless !== undefined && { unless: r.unless }),
      action: r.action,
    })),
    timeConditions: data.time_conditions,
  };
}

/**
 * The first rule that matches `number` at `at`, with one trace line per rule considered (so a
 * surprising route can be explained), or undefined when none does.
 */
export function matchRule(plan: Dialplan, number: string, at: number, trace: RouteTraceEntry[]): RuleMatch | undefined {
  for (const rule of plan.rules) {
    const m = rule.pattern.exec(number);
    if (!m) {
      trace.push({ step: 'dialplan', detail: `rule ${rule.name} (${rule.pattern.source}): no match` });
      continue;
    }
    const blocked = timeBlock(plan, rule, at);
    if (blocked) {
      trace.push({ step: 'dialplan', detail: `rule ${rule.name}: matches, but ${blocked}; skipped` });
      continue;
    }
    trace.push({ step: 'dialplan', detail: `rule ${rule.name} (${rule.pattern.source}): matched → ${rule.action.type}` });
    return { rule, groups: { ...m.groups } as Record<string, string> };
  }
  return undefined;
}

/** Why the rule's time condition keeps it out at `at`, or undefined when it applies. */
function timeBlock(plan: Dialplan, rule: DialplanRule, at: number): string | undefined {
  const cond = (name: string) => plan.timeConditions[name];
  if (rule.when !== undefined) {
    const c = cond(rule.when);
    if (!c || !timeConditionHolds(c, at)) return `time condition ${rule.when} does not hold at ${new Date(at).toISOString()}`;
  }
  if (rule.unless !== undefined) {
    const c = cond(rule.unless);
    if (c && timeConditionHolds(c, at)) return `time condition ${rule.unless} holds at ${new Date(at).toISOString()}`;
  }
  return undefined;
}
