/**
 * The dialplan as data (dialplan/default.json, or the file SWITCHBOARD_DIALPLAN names): ordered
 * rules, each a pattern over the dialled number and an action, optionally limited by a named time
 * condition. Checked once at start-up so that a typo stops the PBX with a message naming the place,
 * instead of misrouting calls later; everything a rule refers to (its regex, a condition's name,
 * the `target` group a forward feature needs, a time zone) is checked here too.
 */
import { z } from 'zod';

/** Feature codes the router knows how to apply (issue 4 §3); `voicemail` is reserved and answers 501 until voicemail exists. */
export const FEATURES = ['forward_always_on', 'forward_always_off', 'dnd_on', 'dnd_off', 'voicemail'] as const;
export type Feature = (typeof FEATURES)[number];

/** What a `local` rule looks the dialled number up as, in order. */
export const LOOKUPS = ['extension', 'ring_group'] as const;
export type Lookup = (typeof LOOKUPS)[number];

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

const HHMM = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time of day as HH:MM (00:00-23:59)');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const TimeRange = z.strictObject({
  days: z.array(z.enum(DAYS, { error: `a day: one of ${DAYS.join(', ')}` })).min(1, 'at least one day'),
  /** Inclusive start; a range whose `to` is before its `from` runs past midnight. */
  from: HHMM,
  /** Exclusive end. */
  to: HHMM,
});

const TimeCondition = z.strictObject({
  timezone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin or UTC'),
  ranges: z.array(TimeRange).min(1, 'at least one range'),
});

/** A regex source that compiles; the message carries the engine's own complaint. */
const Pattern = z.string().min(1).superRefine((src, ctx) => {
  try {
    new RegExp(src);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

const Action = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('local'),
    lookup: z.array(z.enum(LOOKUPS)).min(1).default(['extension', 'ring_group']),
  }),
  z.strictObject({ type: z.literal('feature'), feature: z.enum(FEATURES) }),
  z.strictObject({
    type: z.literal('reject'),
    sip_status: z.number().int().min(400).max(699),
    reason: z.string().min(1).max(200),
  }),
]);

const Rule = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, ".", "_" or "-" (1-64)'),
  match: Pattern,
  /** The rule applies only while this time condition holds. */
  when: z.string().optional(),
  /** The rule applies only while this time condition does not hold (after hours). */
  unless: z.string().optional(),
  action: Action,
});

export const DialplanSchema = z
  .strictObject({
    version: z.literal(1),
    description: z.string().optional(),
    time_conditions: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), TimeCondition).default({}),
    rules: z.array(Rule).min(1, 'at least one rule'),
  })
  .superRefine((plan, ctx) => {
    const names = new Set<string>();
    plan.rules.forEach((rule, i) => {
      if (names.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}"` });
      names.add(rule.name);
      for (const key of ['when', 'unless'] as const) {
        const cond = rule[key];
        if (cond !== undefined && !(cond in plan.time_conditions)) {
          const known = Object.keys(plan.time_conditions);
          ctx.addIssue({ code: 'custom', path: ['rules', i, key], message: `no time condition "${cond}" (defined: ${known.length ? known.join(', ') : 'none'})` });
        }
      }
      // The number to forward to comes from the pattern itself (`*721003`), so the pattern must capture it.
      if (rule.action.type === 'feature' && rule.action.feature === 'forward_always_on' && !/\(\?<target>/.test(rule.match)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'match'], message: 'a forward_always_on rule needs a named group (?<target>…) that captures the number to forward to' });
      }
    });
  });

export type DialplanData = z.output<typeof DialplanSchema>;
export type DialplanRuleData = DialplanData['rules'][number];
export type DialplanAction = DialplanRuleData['action'];
export type TimeConditionData = DialplanData['time_conditions'][string];
