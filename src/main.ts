/**
 * Entry point (`npm start`, `node dist/main.js`) and composition root: config → logger → store
 * (data dir, migrate) → media (rtpengine or direct) → SIP engine (child process) → drachtio-srf
 * app → first-start seed → events (webhooks, /ws) → registrar and calls → HTTP API → banner;
 * graceful stop on SIGTERM/SIGINT in the reverse order (API, app, engine, database last). The
 * sequence and the stop live here; what each step builds lives in src/app/ (engine process, event
 * delivery, PBX, HTTP app, banner). Only main and src/app build concrete implementations.
 *
 * Supervision policy: if the embedded engine dies, Switchboard logs it and exits non-zero rather
 * than restarting the engine in-process. Registrations, dialogs and transactions live in the
 * engine, so a silent restart would hide lost state; a whole-process restart by systemd, Docker
 * (`restart: unless-stopped`) or the shell is visible and starts from a clean slate.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listenApi, type RunningApi } from './api/server.js';
import type { EventStream } from './api/events-ws/event-stream.js';
import { attachEventStream } from './api/events-ws/stream-upgrade.js';
import { banner, demoSipDomain } from './app/banner.js';
import { startEngine, type EngineProcess } from './app/engine-process.js';
import { createEventDelivery } from './app/event-delivery.js';
import { createHttpApp, createRequestLog } from './app/http-api.js';
import { routeInvites, startCalls, startRegistration, type PbxContext } from './app/pbx.js';
import { ConfigError, loadConfig, sipContactUri, type AppConfig } from './config/load-config.js';
import { loadOrCreateInstanceId } from './config/instance-id.js';
import { loadOrCreateSecretKey } from './config/secret-key.js';
import { MediaStartError, startMedia, type MediaRuntime } from './media/start-media.js';
import { createLogger } from './obs/logger.js';
import { startSipApp, type SipApp } from './sip/sip-app.js';
import type { Dialplan } from './pbx/dialplan/dialplan.js';
import { DialplanError, defaultDialplanPath, loadDialplan } from './pbx/dialplan/load-dialplan.js';
import type { WebhookDispatcher } from './pbx/events/webhook-dispatcher.js';
import { countOwners, migrateToLatest, openDatabase, upgradeWebhookHeaders, type RequestLogWriter, type Store } from './store/index.js';
import { seedFirstStart } from './store/seed.js';

const appConnectTimeoutMs = 15_000;
const shutdownTimeoutMs = 10_000;

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`switchboard: ${err.message}`);
    process.exit(2);
  }
  // The dialplan before anything starts: a broken one stops the start (exit 2, like a bad variable)
  // with every problem named, rather than misroute calls later.
  let dialplan: Dialplan;
  try {
    dialplan = loadDialplan(config.dialplan.path ?? defaultDialplanPath());
  } catch (err) {
    if (!(err instanceof DialplanError)) throw err;
    console.error(`switchboard: ${err.message}`);
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel, name: 'switchboard' });
  log.info({ dialplan: dialplan.source, rules: dialplan.rules.length }, 'dialplan loaded');

  let store: Store | undefined;
  let engine: EngineProcess | undefined;
  // The media anchor (rtpengine or direct) that call code will be given; see src/media/start-media.ts.
  let media: MediaRuntime | undefined;
  let app: SipApp | undefined;
  let api: RunningApi | undefined;
  let requestLog: RequestLogWriter | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  let eventStream: EventStream | undefined;
  let stopping = false;

  const stop = async (reason: string, code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      log.info({ reason }, 'stopping');
      setTimeout(() => {
        log.error('stop timed out; exiting');
        process.exit(1);
      }, shutdownTimeoutMs).unref();
      // The API first, so no request starts against a half-stopped PBX; then the app, so the
      // engine has no client left when it stops and nothing logs a lost link; the database last.
      // WebSocket readers first (1001 going away): the API's close waits for open connections.
      eventStream?.close();
      await api?.close().catch((err: unknown) => log.warn({ err }, 'API stop failed'));
      // No new webhook attempt from here; those in flight finish (bounded) while the rest stops.
      const dispatcherStopped = dispatcher?.stop().catch((err: unknown) => log.warn({ err }, 'webhook dispatcher stop failed'));
      await app?.stop().catch((err: unknown) => log.warn({ err }, 'app stop failed'));
      // After the app: no call can open a media session any more; ours are deleted, then the
      // rtpengine we started stops.
      await media?.stop();
      await engine?.stop();
      // Attempts in flight are recorded before the store closes; anything left pending is resumed from the store at the next start.
      await dispatcherStopped;
      // The request log's last batch goes in before the database closes.
      await requestLog?.close().catch((err: unknown) => log.warn({ err }, 'request log flush failed'));
      await store?.close().catch((err: unknown) => log.warn({ err }, 'database close failed'));
      log.info({ code }, 'stopped');
      process.exit(code);
    }
    return new Promise<never>(() => {});
  };
  // Registered before anything starts, so that a signal during boot still stops the engine. Kept
  // for repeats too (a terminal's Ctrl-C plus the copy tsx relays): stop() runs once, and the
  // default action must not kill us mid-stop.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal, 0));

  try {
    // The store before the engine: a broken data directory or migration fails fast, before any port is taken.
    mkdirSync(config.dataDir, { recursive: true });
    const secretKey = loadOrCreateSecretKey(config.dataDir, config.secrets.secretKeyHex);
    const dbPath = join(config.dataDir, 'switchboard.db');
    store = openDatabase(dbPath);
    const migrated = await migrateToLatest(store.db);
    // Webhook header values stored in clear before migration 0010 (which has no key) are encrypted now, before anything reads them.
    const headersUpgraded = await upgradeWebhookHeaders(store.db, secretKey.key);
    log.info({ path: dbPath, applied: migrated.results?.length ?? 0, secretKey: secretKey.source, ...(headersUpgraded > 0 && { webhookHeadersEncrypted: headersUpgraded }) }, 'database ready');
    const db = store.db;
    // Moves on every write of this connection (API, registrar, request log): the API's read cache keys on it.
    const changeCounter = store.changeCounter;

    // Media before the SIP engine: an RTPENGINE_NG that does not answer fails fast, before any SIP port is taken.
    const instanceId = loadOrCreateInstanceId(config.dataDir);
    media = await startMedia(config.media, {
      log: log.child({ component: 'media' }),
      ownerTag: `sb-${instanceId}-`,
      sipAddress: config.sip.address,
      searchPath: process.env.PATH ?? '',
    });
    if (stopping) return;
    const mediaReadiness = media.readiness;

    let endpoint: { host: string; port: number; secret: string };
    if (config.engine.mode === 'embedded') {
      log.info({ contact: sipContactUri(config.sip), adminPort: config.engine.adminPort }, 'starting the embedded SIP engine');
      engine = await startEngine(config, config.engine.secret, config.engine.adminPort, log);
      engine.child.once('exit', (code, signal) => {
        if (stopping) return;
        log.fatal({ code, signal }, 'the SIP engine exited; stopping Switchboard (restart it, or let systemd/Docker do so)');
        void stop('engine exited', 1);
      });
      endpoint = { host: config.engine.adminHost, port: engine.ready.adminPort, secret: config.engine.secret };
    } else {
      log.info({ host: config.engine.host, port: config.engine.port }, 'using an external drachtio-server');
      endpoint = config.engine;
    }

    const sipLog = log.child({ component: 'sip' });
    const starting = startSipApp(endpoint, sipLog);
    // The embedded engine is already listening, so a slow connect means something is wrong; an
    // external server may come up later, and srf keeps retrying until it does.
    if (engine) {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the app could not connect to the SIP engine within ${appConnectTimeoutMs / 1000} s`)), appConnectTimeoutMs).unref());
      app = await Promise.race([starting, timeout]);
    } else {
      app = await starting;
    }
    if (stopping) return;

    const seed = await seedFirstStart(db, { secretKey: secretKey.key, sipDomain: demoSipDomain(app), bootstrapApiKey: config.secrets.bootstrapApiKey });
    // Ids only: the passwords and the key are for the banner alone.
    if (seed) log.info({ tenantId: seed.tenant.id, sipDomain: seed.tenant.sip_domain, extensions: seed.extensions.map((e) => e.number) }, 'seeded the demo tenant (first start)');

    // Webhooks and the /ws stream: every outbox producer wakes both after its commit.
    const delivery = createEventDelivery(config, { db, secretKey: secretKey.key, log });
    dispatcher = delivery.dispatcher;
    eventStream = delivery.stream;
    await delivery.stream.start();
    const webhookDispatch = delivery.wake;

    const pbx: PbxContext = { config, db, secretKey: secretKey.key, log, sipLog, app, wake: () => webhookDispatch.wake() };
    const { defaultTenant, registrar } = await startRegistration(pbx, seed);
    const calls = await startCalls(pbx, { instanceId, dialplan });
    dispatcher.start();
    if (registrar && defaultTenant) routeInvites(pbx, { registrar, defaultTenant, media, calls });

    // The engine's link is up while the app runs and the embedded engine lives; an external
    // engine is the operator's, and srf reconnects to it on its own.
    const engineConnected = (): boolean =>
      app !== undefined && (engine === undefined || (engine.child.exitCode === null && engine.child.signalCode === null));
    const apiLog = log.child({ component: 'api' });
    requestLog = createRequestLog(db, { log, apiLog, wake: () => webhookDispatch.wake() });
    const httpApp = createHttpApp({
      db,
      secretKey: secretKey.key,
      apiLog,
      requestLog,
      changeCounter,
      router: calls.router,
      liveCalls: calls.liveCalls,
      webhookPolicy: delivery.webhookPolicy,
      webhookDispatch,
      sip: registrar ? { qualifyStatus: (id: string) => registrar.qualifyStatus(id) } : undefined,
      engineConnected,
      mediaReadiness,
    });
    api = await listenApi(httpApp, { port: config.http.port, hostname: config.http.address });
    attachEventStream(api.server, delivery.stream, db);
    if (stopping) return;
    log.info({ address: api.address.address, port: api.address.port }, 'HTTP API listening');

    log.info({ hostports: app.engine.hostports, engine: config.engine.mode }, 'switchboard ready');
    // The owner user (for logging in) is created by first-run setup, which the banner points to until it is done.
    const setupDone = defaultTenant !== undefined && (await countOwners(db, defaultTenant.id)) > 0;
    process.stderr.write(banner(config, app, engine, media, api, seed, setupDone) + '\n');
  } catch (err) {
    if (err instanceof MediaStartError) {
      // A configuration that cannot work, like a bad variable: exit 2 with the reason on stderr.
      log.fatal({ err }, 'media start failed');
      console.error(`switchboard: ${err.message}`);
      await stop('media start failed', 2);
    }
    log.fatal({ err }, 'start failed');
    await stop('start failed', 1);
  }
}

void main();
