import { listOutboxEventsAfter, type Db, type OutboxEvent } from '../../store/index.js';

/** Events a tenant's window keeps (~1 KB each): a few seconds of a busy PBX, enough for endpoints a few pages apart. */
const WINDOW_EVENTS = 4000;
/** Tenants whose window is kept (least recently read dropped first). */
const WINDOW_TENANTS = 64;

interface Window {
  /** The window holds every event of the tenant with `after < sequence <= end`, in order. */
  after: number;
  end: number;
  events: OutboxEvent[];
  /** The commit generation when the store was last asked for events past `end` (see {@link OutboxWindows.read}). */
  tailAsked?: number;
}

/**
 * The recent outbox events of each tenant, read from the store once and shared by all its
 * endpoints: 10 endpoints reading the same pages past their cursors read each event ten times
 * (~9 µs each, a fifth of the store's time per delivery at 20,000 deliveries a second — npm run
 * bench:events). A window is a contiguous run of the tenant's events, so a read inside it is
 * exact: the outbox is written and read over one connection, so no event can commit behind one
 * already read. A read before the window or past its end goes to the store (and extends it).
 */
export class OutboxWindows {
  private readonly windows = new Map<string, Window>();

  /** `size`: events a tenant's window keeps (tests make it small). */
  constructor(private readonly size = WINDOW_EVENTS) {}

  /**
   * The tenant's first `limit` events after `after`, in sequence order: the same as
   * listOutboxEventsAfter. `generation` counts the outbox commits announced so far (a wake-up
   * follows every commit): a short read asks the store for what follows the window only if a commit
   * was announced since it last asked — otherwise each of a tenant's endpoints, resumed by one
   * commit, asked again for the same nothing. Undefined: always ask.
   */
  async read(db: Db, tenantId: string, after: number, limit: number, generation?: number): Promise<OutboxEvent[]> {
    const w = this.windows.get(tenantId);
    // Behind the window (an endpoint far behind the others): from the store, leaving the window where the others read.
    if (w !== undefined && after < w.after) return listOutboxEventsAfter(db, after, { tenantId, limit });
    if (w === undefined || after > w.end) {
      const events = await listOutboxEventsAfter(db, after, { tenantId, limit });
      // Fewer than asked for: the window reaches the head as of this generation.
      this.keep(tenantId, { after, end: events.at(-1)?.sequence ?? after, events, ...(generation !== undefined && events.length < limit && { tailAsked: generation }) });
      return events;
    }
    let page = this.slice(w, after, limit);
    if (page.length < limit && (generation === undefined || w.tailAsked !== generation)) {
      // Short: what was committed since the window's end.
      const tail = await listOutboxEventsAfter(db, w.end, { tenantId, limit: limit - page.length });
      // Fewer than asked for: the window now reaches the head as of this generation.
      if (tail.length < limit - page.length && this.windows.get(tenantId) === w) w.tailAsked = generation;
      page = page.concat(tail);
      // Another endpoint's read may have extended (or replaced) the window meanwhile: add only what it lacks.
      if (this.windows.get(tenantId) !== w) return page;
      const fresh = tail.filter((e) => e.sequence > w.end);
      if (fresh.length > 0) {
        w.events.push(...fresh);
        w.end = (fresh.at(-1) as OutboxEvent).sequence;
      }
    }
    this.keep(tenantId, w);
    return page;
  }

  private slice(w: Window, after: number, limit: number): OutboxEvent[] {
    // First index with sequence > after (binary search: windows are in sequence order).
    let lo = 0;
    let hi = w.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((w.events[mid] as OutboxEvent).sequence <= after) lo = mid + 1;
      else hi = mid;
    }
    return w.events.slice(lo, lo + limit);
  }

  private keep(tenantId: string, w: Window): void {
    if (w.events.length > this.size) {
      const drop = w.events.length - this.size;
      w.after = (w.events[drop - 1] as OutboxEvent).sequence;
      w.events = w.events.slice(drop);
    }
    this.windows.delete(tenantId);
    this.windows.set(tenantId, w);
    if (this.windows.size > WINDOW_TENANTS) this.windows.delete(this.windows.keys().next().value as string);
  }
}
