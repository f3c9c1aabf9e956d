import type { Clock, TimerHandle } from '../../src/shared/clock.js';

interface Scheduled {
  id: number;
  due: number;
  /** Insertion order: timers due at the same instant fire in the order they were scheduled. */
  seq: number;
  fn: () => void;
}

/**
 * A deterministic {@link Clock} for tests of protocol timers (RFC 3261 §17 timers A–K, session
 * timers, idle timeouts). Time only moves when the test calls {@link FakeClock.advance}; due timers
 * then fire in (due time, scheduling order), and each sees `now()` equal to its own due time, so a
 * test can assert the exact instant of every retransmission. Timers scheduled by a firing timer
 * fire within the same `advance` if they fall due before its end.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private nextSeq = 0;
  private readonly timers = new Map<number, Scheduled>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    // Node clamps negative or NaN delays to "as soon as possible"; do the same.
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.timers.set(id, { id, due: this.current + delay, seq: this.nextSeq++, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due on the way (including ones
   * scheduled by fired timers), then leave `now()` at the end of the interval.
   */
  advance(ms: number): void {
    if (ms < 0) throw new Error('FakeClock cannot go backwards');
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.timers.delete(next.id);
      this.current = next.due;
      next.fn();
    }
    this.current = target;
  }

  /** Advance to the next due timer and fire everything due at that instant; false if none pending. */
  runNext(): boolean {
    const next = this.earliest();
    if (!next) return false;
    this.advance(next.due - this.current);
    return true;
  }

  /**
   * Fire timers until none are left (for "everything eventually expires" checks). Throws after
   * `limit` rounds so a self-rescheduling timer cannot hang a test.
   */
  runAll(limit = 10_000): void {
    for (let i = 0; i < limit; i++) if (!this.runNext()) return;
    throw new Error(`FakeClock.runAll: timers still pending after ${limit} rounds`);
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  pendingCount(): number {
    return this.timers.size;
  }

  /** Due times (absolute) of pending timers, sorted; handy in assertions. */
  pendingDueTimes(): number[] {
    return [...this.timers.values()].map((t) => t.due).sort((a, b) => a - b);
  }

  private earliest(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
