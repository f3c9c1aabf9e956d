import { describe, expect, it } from 'vitest';
import { breakerAfter, breakerGate, retryDelayMs, type Breaker } from './delivery-policy.js';

const cfg = { threshold: 3, pauseMs: 1000 };
const closed: Breaker = { state: 'closed', consecutiveFailures: 0, pausedUntil: null };

describe('retry backoff', () => {
  it('is 2 s, 4 s, 8 s… with up to 25 % jitter, capped', () => {
    expect([1, 2, 3, 4].map((r) => retryDelayMs(r, { random: () => 0 }))).toEqual([2000, 4000, 8000, 16_000]);
    expect(retryDelayMs(1, { random: () => 0.999 })).toBeLessThanOrEqual(2500);
    expect(retryDelayMs(1, { random: () => 0.999 })).toBeGreaterThan(2000);
    expect(retryDelayMs(40, { random: () => 0 })).toBe(3_600_000);
  });
});

describe('circuit breaker', () => {
  it('counts failures, opens at the threshold, probes once after the pause, and closes on success', () => {
    let b = closed;
    for (let i = 0; i < 2; i++) b = breakerAfter(b, false, 0, cfg);
    expect(b).toEqual({ state: 'closed', consecutiveFailures: 2, pausedUntil: null });
    b = breakerAfter(b, false, 0, cfg);
    expect(b).toEqual({ state: 'open', consecutiveFailures: 3, pausedUntil: new Date(1000).toISOString() });
    expect(breakerGate(b, 999)).toEqual({ allow: false, until: 1000 });
    const gate = breakerGate(b, 1000);
    expect(gate).toMatchObject({ allow: true, breaker: { state: 'half_open' } });
    if (!gate.allow) throw new Error('unreachable');
    expect(breakerAfter(gate.breaker, false, 1000, cfg)).toEqual({ state: 'open', consecutiveFailures: 4, pausedUntil: new Date(2000).toISOString() });
    expect(breakerAfter(gate.breaker, true, 1000, cfg)).toEqual(closed);
  });

  it('a success resets the count', () => {
    expect(breakerAfter(breakerAfter(closed, false, 0, cfg), true, 0, cfg)).toEqual(closed);
  });
});
