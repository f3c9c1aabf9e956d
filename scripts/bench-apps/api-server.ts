/**
 * Bench app for `npm run bench:api`: the HTTP API built the way src/main.ts builds it (createApi
 * with API-key auth, SQLite idempotency and every resource, pino at the configured level), over a
 * file-backed SQLite database (WAL, migrations) in --dir, listening on a free loopback port. It seeds
 * a tenant, an admin API key and --seed extensions through the store repositories, then reports
 * `{type: 'ready', port, key, …}` over IPC. It runs in its own process so its CPU is measured apart
 * from the load generator, and answers `{type: 'cpu'}` with its `process.cpuUsage()`; `{type: 'stop'}`
 * closes everything and exits normally, so `--cpu-prof` can write its profile.
 *
 *   node --import tsx scripts/bench-apps/api-server.ts --dir /tmp/x --seed 1000 --rate-limit high
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiKeyAuth } from '../../src/api/api-key-auth.js';
import { createApi, type ApiDeps } from '../../src/api/app.js';
import { listenApi } from '../../src/api/server.js';
import { SqliteIdempotencyStore } from '../../src/api/sqlite-idempotency.js';
import { createLogger } from '../../src/obs/logger.js';
import { wallClock } from '../../src/shared/clock.js';
import { createApiKey, createExtension, createTenant, migrateToLatest, openDatabase, pingDatabase } from '../../src/store/index.js';

const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string' },
    seed: { type: 'string', default: '1000' },
    'rate-limit': { type: 'string', default: 'high' },
    'log-level': { type: 'string', default: 'info' },
  },
});
if (!flags.dir) throw new Error('--dir is required');
const seedCount = Number(flags.seed);
if (!(Number.isInteger(seedCount) && seedCount >= 0)) throw new Error('--seed must be a whole number');

/**
 * The rate limiter stays in the pipeline (its cost is part of every request) but with a bucket no
 * bench can empty, unless `off` removes it; the default 20 burst / 10 per s would turn the bench
 * into a measurement of 429s.
 */
const rateLimit: ApiDeps['rateLimit'] =
  flags['rate-limit'] === 'off' ? false : flags['rate-limit'] === 'default' ? undefined : { capacity: 1e9, refillPerSecond: 1e9 };

const store = openDatabase(join(flags.dir, 'switchboard.db'));
await migrateToLatest(store.db);
const secretKey = randomBytes(32);
const tenant = await createTenant(store.db, { name: 'Bench', sipDomain: 'bench.test' });
const { key } = await createApiKey(store.db, { tenantId: tenant.id, name: 'bench admin', scopes: ['admin'] });
// Numbers 1000… (4+ digits); the POST phase uses another range, so the two never collide. One
// transaction: with synchronous=FULL, a commit per row would make seeding the slowest part.
await store.db.transaction().execute(async (trx) => {
  for (let i = 0; i < seedCount; i++) {
    await createExtension(trx, secretKey, { tenantId: tenant.id, number: String(1000 + i), displayName: `Bench ${1000 + i}` });
  }
});

// Same dependencies as main.ts, minus SIP (the registrar's status port is optional).
const log = createLogger({ level: flags['log-level'] as 'info', name: 'switchboard-bench' });
const app = createApi({
  logger: log.child({ component: 'api' }),
  version: 'bench',
  auth: apiKeyAuth({ db: store.db }),
  idempotency: new SqliteIdempotencyStore(store.db, { secretKey }),
  resources: { db: store.db, secretKey, clock: wallClock, changeCounter: store.changeCounter },
  readiness: [{ name: 'database', check: async () => (await pingDatabase(store.db), true) }],
  ...(rateLimit === undefined ? {} : { rateLimit }),
});
const api = await listenApi(app, { port: 0, hostname: '127.0.0.1' });

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage(), rss: process.memoryUsage().rss });
  if (m?.type === 'stop') {
    void (async () => {
      await api.close();
      await store.close();
      process.exit(0);
    })();
  }
});
// Without the parent (it died), there is nobody to measure for.
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', port: api.address.port, key, tenantId: tenant.id, seeded: seedCount, rateLimit: flags['rate-limit'], logLevel: flags['log-level'] });
