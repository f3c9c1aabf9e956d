/**
 * One lazily re-armed timer per connection: activity only records a timestamp, and the timer,
 * when it fires early, re-arms itself for the remainder. Cheaper than clearing and setting a timer
 * for every chunk on thousands of connections.
 */
import type { Clock, TimerHandle } from '../../shared/clock.js';

export class IdleTimer {
  private last: number;
  private handle: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
  ) {
    this.last = clock.now();
    this.arm(timeoutMs);
  }

  /** Record activity now. */
  touch(): void {
    this.last = this.clock.now();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(ms: number): void {
    this.handle = this.clock.setTimeout(() => {
      if (this.stopped) return;
      const left = this.timeoutMs - (this.clock.now() - this.last);
      if (left > 0) this.arm(left);
      else this.onIdle();
    }, ms);
  }
}
