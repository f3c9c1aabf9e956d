/**
 * Change counters per table, bumped by the repository functions that write it. Caches outside the
 * store (the registrar's credentials and tenants) compare the counter they read with the current
 * one, so an API change (new password, disabled extension, renamed domain) takes effect on the
 * next SIP request instead of after a TTL. In-process only: a write from another process (a CLI
 * on the same file) is caught by the caches' TTL.
 */
export type VersionedTable = 'extensions' | 'tenants' | 'registrations';

const versions: Record<VersionedTable, number> = { extensions: 0, tenants: 0, registrations: 0 };

/** The current change counter of `table`; read it before a query whose result is cached. */
export function storeVersion(table: VersionedTable): number {
  return versions[table];
}

/**
 * Called by repository writes after their statement ran. With one SQLite connection a cache read
 * cannot interleave with an open transaction, so bumping after the write (even inside a caller's
 * transaction) is enough; a rollback merely costs a needless cache refill.
 */
export function bumpStoreVersion(table: VersionedTable): void {
  versions[table]++;
}

/** Extensions whose bindings a write outside the registrar removed; `all` after a tenant delete. */
let removedBindings: Set<string> | 'all' = new Set();

/**
 * Called by the store functions the API uses to remove bindings (force-unregister, credential or
 * status change, extension or tenant deletion). The registrar keeps bindings in memory and drains
 * this feed before it answers a REGISTER, so a binding removed through the API does not live on
 * there. As with the counters, the registrar's read after draining cannot overtake the write's
 * transaction on the single SQLite connection.
 */
export function noteBindingsRemoved(extensionId: string | 'all'): void {
  if (extensionId === 'all') removedBindings = 'all';
  else if (removedBindings !== 'all') removedBindings.add(extensionId);
  versions.registrations++;
}

/** The extensions noted since the last call (and forget them), or `all`. */
export function takeBindingsRemoved(): string[] | 'all' {
  const taken = removedBindings;
  removedBindings = new Set();
  return taken === 'all' ? 'all' : [...taken];
}
