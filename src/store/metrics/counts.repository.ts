import { nowIso, type Db } from '../database.js';

/**
 * Whole-PBX counts for the Prometheus gauges, read at scrape time (a scrape every 15–60 s makes
 * two indexed counts cheap; keeping counters in step with every write would not be).
 */
export async function countForMetrics(db: Db, now = nowIso()): Promise<{ extensions: number; registrations: number; tenants: number }> {
  const [extensions, registrations, tenants] = await Promise.all([
    db.selectFrom('extensions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('registrations').where('expires_at', '>', now).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { extensions: Number(extensions.n), registrations: Number(registrations.n), tenants: Number(tenants.n) };
}
