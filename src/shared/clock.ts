/**
 * Time source and timers behind one interface, so that protocol timers (RFC 3261 §17 timers A–K,
 * session timers, idle timeouts) run on real time in production and on a fake clock in tests.
 */
export interface TimerHandle {
  /** Opaque; pass back to {@link Clock.clearTimeout}. */
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch; monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

interface RealHandle extends TimerHandle {
  timer: NodeJS.Timeout;
}

let nextId = 1;

/** The production clock: `performance.now()` and Node timers (unref'd so they never keep a process alive). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    const handle: RealHandle = { id: nextId++, timer };
    return handle;
  },
  clearTimeout(handle) {
    if (handle) clearTimeout((handle as RealHandle).timer);
  },
};

/**
 * The same timers on wall-clock time (`Date.now()`), for instants that are stored or shared between
 * processes — registration expiries, signed nonces — where a per-process monotonic origin would not do.
 */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
  clearTimeout: (handle) => systemClock.clearTimeout(handle),
};
