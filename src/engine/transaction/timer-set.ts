import type { Clock, TimerHandle } from '../../shared/clock.js';

/**
 * The named timers of one transaction (RFC 3261 §17: A/B, D, E/F, G/H, I, J, K; RFC 6026: L, M),
 * all on the injected {@link Clock} so tests run them on a fake one. Re-arming a name replaces the
 * previous timer; `clearAll` on termination guarantees nothing fires on a dead transaction.
 */
export class TimerSet<Name extends string = string> {
  private readonly handles = new Map<Name, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  set(name: Name, ms: number, fn: () => void): void {
    this.clear(name);
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(name);
      fn();
    }, ms);
    this.handles.set(name, handle);
  }

  clear(name: Name): void {
    const handle = this.handles.get(name);
    if (handle) {
      this.clock.clearTimeout(handle);
      this.handles.delete(name);
    }
  }

  has(name: Name): boolean {
    return this.handles.has(name);
  }

  clearAll(): void {
    for (const handle of this.handles.values()) this.clock.clearTimeout(handle);
    this.handles.clear();
  }
}
