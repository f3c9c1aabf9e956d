import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RouteTraceEntry } from '../../sip/calls/ports.js';
import { matchRule } from './dialplan.js';
import { DialplanError, defaultDialplanPath, loadDialplan, parseDialplan } from './load-dialplan.js';
import { timeConditionHolds } from './time-condition.js';

const rule = (over: Record<string, unknown> = {}) => ({ name: 'internal', match: '^[1-9][0-9]{2,5}$', action: { type: 'local' }, ...over });
const problemsOf = (data: unknown): string[] => {
  try {
    parseDialplan(data, 'test.json');
  } catch (err) {
    if (err instanceof DialplanError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('dialplan loader', () => {
  it('loads the default dialplan', () => {
    const plan = loadDialplan(defaultDialplanPath());
    expect(plan.rules.map((r) => r.name)).toContain('internal');
  });

  it('names the JSON path and the fault of each problem', () => {
    const problems = problemsOf({
      version: 1,
      rules: [rule({ match: '^[1-9' }), rule({ name: 'other', action: { type: 'teleport' } })],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^rules\[0\]\.match: not a valid regular expression/),
      expect.stringMatching(/^rules\[1\]\.action\.type: Invalid discriminator value. Expected 'local' \| 'feature' \| 'reject'/),
    ]);
    // Cross-references are checked once the shape is right (zod runs them on well-formed data only).
    expect(problemsOf({ version: 1, rules: [rule({ when: 'nights' })] })).toEqual([expect.stringMatching(/^rules\[0\]\.when: no time condition "nights" \(defined: none\)/)]);
  });

  it('rejects a duplicate rule name, a bad time zone and a forward rule without a target group', () => {
    const problems = problemsOf({
      version: 1,
      time_conditions: { hours: { timezone: 'Mars/Olympus', ranges: [{ days: ['mon'], from: '08:00', to: '25:00' }] } },
      rules: [rule(), rule(), rule({ name: 'fwd', match: '^\\*72([0-9]+)$', action: { type: 'feature', feature: 'forward_always_on' } })],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^time_conditions\.hours\.timezone: an IANA time zone/),
        expect.stringMatching(/^time_conditions\.hours\.ranges\[0\]\.to: a time of day/),
        expect.stringMatching(/^rules\[1\]\.name: duplicate rule name/),
        expect.stringMatching(/^rules\[2\]\.match: a forward_always_on rule needs a named group/),
      ]),
    );
  });

  it('rejects unknown keys (a typo is not silently ignored)', () => {
    expect(problemsOf({ version: 1, rules: [rule({ mtach: 'x' })] })).toEqual([expect.stringMatching(/^rules\[0\]: .*mtach/)]);
  });

  it('reports an unreadable file and bad JSON with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialplan-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "version": 1, ');
    expect(() => loadDialplan(bad)).toThrow(new RegExp(`invalid dialplan ${bad}:\\n  - not valid JSON`));
    expect(() => loadDialplan(join(dir, 'missing.json'))).toThrow(/cannot read the file: ENOENT/);
  });
});

describe('rule matching', () => {
  const plan = parseDialplan(
    {
      version: 1,
      time_conditions: { office: { timezone: 'Europe/Berlin', ranges: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] } },
      rules: [
        { name: 'after-hours', match: '^100$', unless: 'office', action: { type: 'reject', sip_status: 480, reason: 'closed' } },
        rule(),
      ],
    },
    't.json',
  );
  // Monday 2026-11-23: 10:00 in Berlin is 09:00 UTC; 20:00 in Berlin is 19:00 UTC.
  const monMorning = Date.parse('2026-11-23T09:00:00Z');
  const monEvening = Date.parse('2026-11-23T19:00:00Z');

  it('takes the first matching rule whose time condition allows it, and traces every rule considered', () => {
    const trace: RouteTraceEntry[] = [];
    expect(matchRule(plan, '100', monMorning, trace)?.rule.name).toBe('internal');
    expect(trace[0]?.detail).toMatch(/after-hours: matches, but time condition office holds/);
    expect(matchRule(plan, '100', monEvening, [])?.rule.name).toBe('after-hours');
    expect(matchRule(plan, '*55', monEvening, [])).toBeUndefined();
  });

  it('evaluates ranges in the condition’s zone, including ranges past midnight', () => {
    const night = { timezone: 'America/New_York', ranges: [{ days: ['fri' as const], from: '22:00', to: '06:00' }] };
    // Saturday 2026-11-28 03:00 in New York (08:00 UTC) is inside Friday's night range; Saturday 23:00 is not.
    expect(timeConditionHolds(night, Date.parse('2026-11-28T08:00:00Z'))).toBe(true);
    expect(timeConditionHolds(night, Date.parse('2026-11-29T04:00:00Z'))).toBe(false);
  });
});
