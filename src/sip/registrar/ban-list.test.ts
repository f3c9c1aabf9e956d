import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { BanList } from './ban-list.js';

const A = '192.0.2.1';
const B = '198.51.100.7';

function fail(list: BanList, ip: string, n: number): boolean[] {
  return Array.from({ length: n }, () => list.recordFailure(ip));
}

describe('BanList', () => {
  it('bans on the 10th failure within 60 s, for 300 s, reporting the ban once (R7)', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock });
    const results = fail(list, A, 9);
    expect(results.every((r) => !r)).toBe(true);
    expect(list.isBanned(A)).toBe(false);
    expect(list.recordFailure(A)).toBe(true);
    expect(list.isBanned(A)).toBe(true);
    expect(list.bannedUntil(A)).toBe(300_000);
    expect(list.recordFailure(A)).toBe(false); // already banned: no second event
    expect(list.isBanned(B)).toBe(false); // another source is unaffected
    clock.advance(299_999);
    expect(list.isBanned(A)).toBe(true);
    clock.advance(1);
    expect(list.isBanned(A)).toBe(false);
    expect(list.recordFailure(A)).toBe(false); // history cleared with the ban
  });

  it('failures while banned do not extend the ban', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock });
    fail(list, A, 10);
    clock.advance(200_000);
    fail(list, A, 50);
    clock.advance(100_000);
    expect(list.isBanned(A)).toBe(false);
  });

  it('counts in a sliding window: failures older than 60 s drop out', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock });
    fail(list, A, 9);
    clock.advance(60_000);
    expect(list.recordFailure(A)).toBe(false);
    expect(list.isBanned(A)).toBe(false);
    for (let i = 0; i < 8; i++) {
      clock.advance(1_000);
      expect(list.recordFailure(A)).toBe(false);
    }
    clock.advance(1_000);
    expect(list.recordFailure(A)).toBe(true);
  });

  it('a success resets the count but does not lift a ban', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock });
    fail(list, A, 9);
    list.recordSuccess(A);
    expect(fail(list, A, 9).some(Boolean)).toBe(false);
    expect(list.recordFailure(A)).toBe(true);
    list.recordSuccess(A);
    expect(list.isBanned(A)).toBe(true);
    list.unban(A);
    expect(list.isBanned(A)).toBe(false);
  });

  it('honours configured thresholds', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock, maxFailures: 3, windowMs: 1_000, banMs: 5_000 });
    expect(fail(list, A, 3)).toEqual([false, false, true]);
    clock.advance(5_000);
    expect(list.isBanned(A)).toBe(false);
  });

  it('stays bounded, evicting unbanned sources before banned ones', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock, maxFailures: 2, capacity: 3 });
    fail(list, A, 2); // banned
    for (let i = 0; i < 100; i++) list.recordFailure(`10.0.0.${i}`);
    expect(list.size).toBe(3);
    expect(list.isBanned(A)).toBe(true);
  });

  it('evicts the oldest ban when every tracked source is banned', () => {
    const clock = new FakeClock(0);
    const list = new BanList({ clock, maxFailures: 1, capacity: 2 });
    list.recordFailure('a');
    list.recordFailure('b');
    list.recordFailure('c');
    expect(list.size).toBe(2);
    expect(list.isBanned('a')).toBe(false);
    expect(list.isBanned('b')).toBe(true);
    expect(list.isBanned('c')).toBe(true);
  });
});
