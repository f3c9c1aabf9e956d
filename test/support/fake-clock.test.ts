import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('fires due timers in order with now() at their due time', () => {
    const clock = new FakeClock();
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 200);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 100);
    clock.setTimeout(() => seen.push(['c', clock.now()]), 200);
    clock.advance(150);
    expect(seen).toEqual([['a', 100]]);
    expect(clock.now()).toBe(150);
    clock.advance(50);
    expect(seen).toEqual([
      ['a', 100],
      ['b', 200],
      ['c', 200],
    ]);
  });

  it('fires timers scheduled by fired timers within the same advance', () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const tick = (delay: number): void => {
      clock.setTimeout(() => {
        times.push(clock.now());
        if (delay < 800) tick(delay * 2);
      }, delay);
    };
    tick(100);
    clock.advance(10_000);
    expect(times).toEqual([100, 300, 700, 1500]);
    expect(clock.pendingCount()).toBe(0);
  });

  it('does not fire cleared timers; zero delay fires on advance(0)', () => {
    const clock = new FakeClock(1000);
    let fired = 0;
    const h = clock.setTimeout(() => fired++, 10);
    clock.clearTimeout(h);
    clock.setTimeout(() => fired++, 0);
    expect(fired).toBe(0);
    clock.advance(0);
    expect(fired).toBe(1);
    clock.advance(100);
    expect(fired).toBe(1);
  });

  it('runAll drains everything and refuses an endless loop', () => {
    const clock = new FakeClock();
    clock.setTimeout(() => undefined, 5000);
    clock.runAll();
    expect(clock.now()).toBe(5000);
    const forever = (): void => void clock.setTimeout(forever, 1);
    forever();
    expect(() => clock.runAll(50)).toThrow(/still pending/);
  });
});
