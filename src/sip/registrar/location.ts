/**
 * The location service (RFC 3261 §10.3): every live binding in memory, per extension, so a
 * REGISTER, a call lookup or a qualify round never waits for the database. The store holds the
 * same bindings (written through by the registrar) only so they survive a restart.
 */
import type { Registration } from '../../store/index.js';

/** A binding as the registrar keeps it: the stored row plus parsed instants. */
export interface Binding extends Registration {
  /** `expiresAt` in ms since the epoch. */
  expiresAtMs: number;
  /** The expiry the store holds (refreshes that only move the expiry are not all written). */
  storedExpiresAtMs: number;
}

/** A stored registration as a binding (at start, when the store is reloaded). */
export function bindingFromRegistration(r: Registration): Binding {
  const ms = Date.parse(r.expiresAt);
  return { ...r, expiresAtMs: ms, storedExpiresAtMs: ms };
}

/** In-memory bindings keyed by extension, then contact URI (RFC 3261 §10.3 step 7 identity). */
export class LocationService {
  private readonly byExtension = new Map<string, Map<string, Binding>>();
  private count = 0;

  /** Replace everything with `bindings` (start-up reload). */
  load(bindings: Iterable<Binding>): void {
    this.byExtension.clear();
    this.count = 0;
    for (const b of bindings) this.set(b);
  }

  /** Every binding of the extension, expired ones included (the caller decides), any order. */
  all(extensionId: string): Binding[] {
    const m = this.byExtension.get(extensionId);
    return m ? [...m.values()] : [];
  }

  /** Live bindings of the extension at `now`, most recently refreshed first. */
  live(extensionId: string, now: number): Binding[] {
    return this.all(extensionId)
      .filter((b) => b.expiresAtMs > now)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  }

  set(b: Binding): void {
    let m = this.byExtension.get(b.extensionId);
    if (!m) this.byExtension.set(b.extensionId, (m = new Map()));
    if (!m.has(b.contactUri)) this.count++;
    m.set(b.contactUri, b);
  }

  /** Remove one binding; returns it if it was there. */
  delete(extensionId: string, contactUri: string): Binding | undefined {
    const m = this.byExtension.get(extensionId);
    const b = m?.get(contactUri);
    if (!m || !b) return undefined;
    m.delete(contactUri);
    this.count--;
    if (m.size === 0) this.byExtension.delete(extensionId);
    return b;
  }

  /** Remove and return every binding that expired at or before `now`. */
  takeExpired(now: number): Binding[] {
    const out: Binding[] = [];
    for (const m of this.byExtension.values()) for (const b of m.values()) if (b.expiresAtMs <= now) out.push(b);
    for (const b of out) this.delete(b.extensionId, b.contactUri);
    return out;
  }

  /** Every binding of every extension (qualify rounds). */
  *values(): IterableIterator<Binding> {
    for (const m of this.byExtension.values()) yield* m.values();
  }

  get size(): number {
    return this.count;
  }
}
