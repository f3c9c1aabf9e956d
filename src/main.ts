/**
 * Composition root: config → logger → store (data dir, migrate) → media (rtpengine or direct) →
 * SIP engine (child process) →
 * drachtio-srf app → first-start seed → HTTP API → banner; graceful stop on SIGTERM/SIGINT in the
 * reverse order (API, app, engine, database last). The only module that builds concrete
 * implementations.
 *
 * Supervision policy: if the embedded engine dies, Switchboard logs it and exits non-zero rather
 * than restarting the engine in-process. Registrations, dialogs and transactions live in the
 * engine, so a silent restart would hide lost state; a whole-process restart by systemd, Docker
 * (`restart: unless-stopped`) or the shell is visible and starts from a clean slate.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiKeyAuth } from './api/api-key-auth.js';
import { sessionBearerResolver } from './api/auth/session-resolver.js';
import { createApi } from './api/app.js';
import { OPENAPI_PATH } from './api/openapi.js';
import { listenApi, type RunningApi } from './api/server.js';
import { EventStream } from './api/events-ws/event-stream.js';
import { attachEventStream } from './api/events-ws/stream-upgrade.js';
import { SqliteIdempotencyStore } from './api/sqlite-idempotency.js';
import { ConfigError, loadConfig, sipContactUri, type AppConfig } from './config/load-config.js';
import { allowListOf } from './events/webhooks/ip-ranges.js';
import { loadOrCreateInstanceId } from './config/instance-id.js';
import { loadOrCreateSecretKey } from './config/secret-key.js';
import { MediaStartError, startMedia, type MediaRuntime } from './media/start-media.js';
import { createLogger, type Logger } from './obs/logger.js';
import { startSipApp, type SipApp } from './sip/sip-app.js';
import { EventBus } from './events/event-bus.js';
import type { PbxEvents } from './events/pbx-events.js';
import { CallService } from './pbx/calls/call-service.js';
import { callControlOf } from './pbx/calls/call-control.js';
import { createRingGroupResolver } from './pbx/ring-groups/index.js';
import { createCallRouter } from './pbx/dialplan/router.js';
import type { Dialplan } from './pbx/dialplan/dialplan.js';
import { DialplanError, defaultDialplanPath, loadDialplan } from './pbx/dialplan/load-dialplan.js';
import { LiveCalls } from './pbx/calls/live-calls.js';
import { ApiErrorOutbox } from './pbx/events/api-error-outbox.js';
import { CallOutbox } from './pbx/events/call-outbox.js';
import { RegistrationOutbox } from './pbx/events/registration-outbox.js';
import { SecurityOutbox } from './pbx/events/security-outbox.js';
import { WebhookDispatcher } from './pbx/events/webhook-dispatcher.js';
import { createHmac } from 'node:crypto';
import { wallClock } from './shared/clock.js';
import { BanList } from './sip/registrar/ban-list.js';
import { RequestLogWriter, countOwners, listTenants, migrateToLatest, openDatabase, pingDatabase, upgradeWebhookHeaders, type Store } from './store/index.js';
import { seedFirstStart, type SeedResult } from './store/seed.js';

/** What the engine CLI sends over IPC once its sockets are bound (src/engine/cli.ts). */
interface EngineReady {
  type: 'ready';
  adminPort: number;
  sip: Array<{ protocol: string; address: string; port: number }>;
}

/** The embedded engine as main sees it. */
interface EngineProcess {
  readonly child: ChildProcess;
  readonly ready: EngineReady;
  stop(): Promise<void>;
}

const engineReadyTimeoutMs = 30_000;
const engineStopTimeoutMs = 5_000;
const appConnectTimeoutMs = 15_000;
const shutdownTimeoutMs = 10_000;
/** Live calls one extension may be party to (a phone's usual line-key count). */
const maxCallsPerExtension = 4;

/**
 * The engine entry beside this file: `engine/cli.ts` run through tsx in development
 * (`npm start`), `engine/cli.js` with plain node in the built image, where tsx is not needed.
 */
function engineEntry(): { file: string; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    return { file: fileURLToPath(new URL('./engine/cli.ts', self)), execArgv: ['--import', import.meta.resolve('tsx')] };
  }
  return { file: fileURLToPath(new URL('./engine/cli.js', self)), execArgv: [] };
}

// Preloaded into the engine: when main dies without stopping it (SIGKILL, crash), the IPC channel
// closes, and the engine stops too instead of living on as an orphan that holds the SIP port.
const exitWithParent = 'data:text/javascript,process.on("disconnect",()=>process.kill(process.pid,"SIGTERM"))';

function isReady(m: unknown): m is EngineReady {
  const r = m as Partial<EngineReady> | null;
  return typeof r === 'object' && r !== null && r.type === 'ready' && typeof r.adminPort === 'number' && Array.isArray(r.sip);
}

/** Fork the engine on its own core and wait for its `ready` message. */
function startEngine(config: AppConfig, secret: string, adminPort: number, log: Logger): Promise<EngineProcess> {
  const entry = engineEntry();
  const args = ['--contact', sipContactUri(config.sip), '--address', '127.0.0.1', '--port', String(adminPort), '--loglevel', config.logLevel];
  const child = fork(entry.file, args, {
    execArgv: [...entry.execArgv, '--import', exitWithParent],
    // The secret goes in the environment, not argv: /proc/<pid>/cmdline is readable by every
    // local user, /proc/<pid>/environ only by the owner. Nothing else of ours is passed down.
    env: { DRACHTIO_SECRET: secret },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Its own process group: Ctrl-C reaches main alone, which stops the app before the engine.
    detached: true,
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), engineStopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      void stop();
      reject(new Error(`the SIP engine did not start within ${engineReadyTimeoutMs / 1000} s`));
    }, engineReadyTimeoutMs);
    const onMessage = (m: unknown): void => {
      if (!isReady(m)) return;
      cleanup();
      log.debug({ pid: child.pid, adminPort: m.adminPort }, 'engine ready');
      resolve({ child, ready: m, stop });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(new Error(`the SIP engine exited during start (code ${code}, signal ${signal}); see its log above (a port already in use? set SWITCHBOARD_SIP_PORT or SWITCHBOARD_ENGINE_ADMIN_PORT)`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** The package version, for `/health` and the OpenAPI document (package.json sits one level up from src/ and dist/). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/**
 * The demo tenant's SIP domain: the first host the engine advertises, unless that is a wildcard
 * bind address (0.0.0.0, ::) that no phone can use as a domain; then a placeholder the operator
 * renames through the API.
 */
function demoSipDomain(app: SipApp): string {
  const first = app.engine.hostports[0] ?? '';
  const hostPort = first.slice(first.indexOf('/') + 1);
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  if (host === '' || host === '0.0.0.0' || host === '::' || (isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host))) return 'switchboard.local';
  return host;
}

/** The URL a local user can open: a wildcard bind is reachable on loopback. */
function apiUrl(api: RunningApi): string {
  const { address, port } = api.address;
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * The first-start lines: the clear-text secrets go to stderr here, once, and never into the JSON
 * logs. A bootstrap key from the environment is already known to whoever set it, so it is not echoed.
 */
function seedBanner(seed: SeedResult): string[] {
  return [
    `  Seeded  demo tenant ${seed.tenant.sip_domain} (first start; shown only this once)`,
    ...seed.extensions.map((e) => `          extension ${e.number}  SIP password ${e.sipPassword}`),
    seed.apiKeyGenerated ? `          admin API key ${seed.apiKey}` : '          admin API key: the one in SWITCHBOARD_BOOTSTRAP_API_KEY',
  ];
}

function banner(config: AppConfig, app: SipApp, engine: EngineProcess | undefined, media: MediaRuntime, api: RunningApi, seed: SeedResult | undefined, setupDone: boolean): string {
  const transports = app.engine.hostports.join(', ');
  const where = app.engine.hostports.find((h) => h.startsWith('udp/')) ?? app.engine.hostports[0] ?? '';
  const hostPort = where.slice(where.indexOf('/') + 1);
  const source = engine ? `embedded engine (pid ${engine.child.pid}), bound to ${config.sip.address}` : `external drachtio-server ${config.engine.mode === 'external' ? `${config.engine.host}:${config.engine.port}` : ''}`;
  return [
    '',
    '  Switchboard is running',
    '',
    `  SIP     ${transports}  — ${source}`,
    `  Phones  set the SIP server (registrar/proxy) of a phone or softphone to ${hostPort}, UDP or TCP.`,
    '          Phones register with digest authentication (SHA-256 or MD5) and call each other',
    '          by extension number.',
    `  ${media.summary}`,
    `  API     ${apiUrl(api)}  — docs ${apiUrl(api)}/api/v1/docs, OpenAPI ${apiUrl(api)}${OPENAPI_PATH}, health ${apiUrl(api)}/health`,
    `  Data    ${config.dataDir}`,
    ...(seed ? seedBanner(seed) : []),
    ...(setupDone ? [] : [`  Setup   no owner user yet: POST ${apiUrl(api)}/api/v1/setup/complete (see the docs page)`]),
    '  Stop    Ctrl-C (or SIGTERM)',
    '',
  ].join('\n');
}

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

    // Webhooks: events are written to the outbox with each change; the dispatcher delivers them
    // (woken after each commit, polling as a safety net) and resumes from the store after a crash.
    const webhookPolicy = { allow: allowListOf(config.webhooks.allowlist) };
    dispatcher = new WebhookDispatcher({
      db,
      secretKey: secretKey.key,
      clock: wallClock,
      log: log.child({ component: 'webhooks' }),
      policy: webhookPolicy,
      breaker: { threshold: 10, pauseMs: config.webhooks.breakerPauseSeconds * 1000 },
      retentionMs: config.events.retentionHours * 3_600_000,
    });
    const webhookDispatcher = dispatcher;
    // The /ws event stream reads the same outbox; every commit wakes both readers.
    const stream = new EventStream({ db, log: log.child({ component: 'event-stream' }) });
    eventStream = stream;
    await stream.start();
    const webhookDispatch = {
      wake: (): void => {
        webhookDispatcher.wake();
        stream.wake();
      },
    };

    // Requests to the PBX's own address (or any domain that is no tenant's) belong to the first
    // tenant (product.md §2 item 1). Nonces are signed with a key derived from the secret key, so
    // they stay valid across a restart.
    const defaultTenant = seed?.tenant ?? (await listTenants(db, { limit: 1 })).items[0];
    const registrarLog = sipLog.child({ component: 'registrar' });
    const securityOutbox = defaultTenant && new SecurityOutbox({ db, clock: wallClock, log: log.child({ component: 'events' }), tenantId: defaultTenant.id, onCommitted: () => webhookDispatch.wake() });
    const registrar = !defaultTenant ? undefined : await app.startRegistrar({
        db,
        log: registrarLog,
        clock: wallClock,
        nonceSecret: createHmac('sha256', secretKey.key).update('sip-digest-nonce').digest(),
        defaultTenantId: defaultTenant.id,
        banList: new BanList({ clock: wallClock }),
        // Logged as before, and written to the outbox as security.ban (reported to the default tenant).
        onBan: (ban) => {
          registrarLog.warn({ event: 'security.ban', ...ban, until: new Date(ban.until).toISOString() }, 'security.ban: source banned after repeated REGISTER failures');
          void securityOutbox?.sipBan(ban);
        },
        // registration.created/expired, committed with the bindings.
        events: new RegistrationOutbox({ db, clock: wallClock, log: log.child({ component: 'events' }), onCommitted: () => webhookDispatch.wake() }),
        challengeAlgorithms: config.registrar.digestAlgorithms,
        qualify: config.registrar.qualifySeconds === 0 ? false : { intervalMs: config.registrar.qualifySeconds * 1000 },
      });

    // Calls: the event bus (consumers come with webhooks/WebSocket), the call service, and the
    // INVITE route. Calls this instance left open at a crash are closed (interrupted) first.
    const events = new EventBus<PbxEvents>((err, type) => log.warn({ err, type }, 'event listener failed'));
    const callService = new CallService({
      db,
      bus: events,
      clock: wallClock,
      instanceId,
      log: log.child({ component: 'calls' }),
      ringTimeoutMs: config.calls.ringTimeoutSeconds * 1000,
      maxCallsPerExtension,
      outbox: new CallOutbox({ db, clock: wallClock, log: log.child({ component: 'events' }), onCommitted: () => webhookDispatch.wake() }),
    });
    await callService.recoverInterruptedCalls();
    // Where dialled numbers go (dialplan, forwarding, DND, call limits); the INVITE handler and
    // POST /api/v1/routing/simulate ask the same router. Ring groups plug in as `ringGroups`.
    const router = createCallRouter({
      db,
      clock: wallClock,
      log: log.child({ component: 'routing' }),
      dialplan,
      calls: callService,
      // Ring groups by number; the router routes a group's fallback when its plan ends unanswered.
      ringGroups: createRingGroupResolver({ db, clock: wallClock, log: log.child({ component: 'ring-groups' }), calls: callService }),
      defaultRingTimeoutMs: config.calls.ringTimeoutSeconds * 1000,
    });
    // Mid-call changes are rare and what an operator asks about afterwards ("who put whom on hold,
    // where did the call go"): logged until the webhook/WebSocket consumers arrive.
    const callEventLog = log.child({ component: 'calls' });
    for (const type of ['call.hold', 'call.unhold', 'call.transfer'] as const) events.on(type, (e) => callEventLog.info({ event: type, ...e }, 'call event'));
    // The live-calls API's view of the calls; click-to-call works once the INVITE route runs.
    const liveCalls = new LiveCalls(callService);
    dispatcher.start();
    if (registrar && defaultTenant) {
      const sipCalls = app.startCalls({
        db,
        log: sipLog.child({ component: 'calls' }),
        clock: wallClock,
        nonceSecret: createHmac('sha256', secretKey.key).update('sip-digest-nonce').digest(),
        defaultTenantId: defaultTenant.id,
        location: registrar.location,
        calls: callControlOf(callService),
        router,
        media: media.anchor,
        challengeAlgorithms: config.registrar.digestAlgorithms,
      });
      liveCalls.useOriginator(sipCalls);
    }

    // The engine's link is up while the app runs and the embedded engine lives; an external
    // engine is the operator's, and srf reconnects to it on its own.
    const engineConnected = (): boolean =>
      app !== undefined && (engine === undefined || (engine.child.exitCode === null && engine.child.signalCode === null));
    const apiLog = log.child({ component: 'api' });
    // Buffered: requests never wait for the log; a failed batch is logged, not thrown.
    // api.error events commit with the batch of log lines they describe (issue 5 §2).
    const apiErrors = new ApiErrorOutbox({ clock: wallClock, log: log.child({ component: 'events' }), onCommitted: () => webhookDispatch.wake() });
    requestLog = new RequestLogWriter(db, {
      onError: (err) => apiLog.warn({ err }, 'could not write the API request log'),
      events: apiErrors.events,
      onEventsCommitted: () => apiErrors.committed(),
    });
    const httpApp = createApi({
      logger: apiLog,
      version: packageVersion(),
      // API keys, and user sessions (sbt_ access tokens from POST /api/v1/auth/login).
      auth: apiKeyAuth({ db, resolveBearer: sessionBearerResolver({ db, clock: wallClock }) }),
      idempotency: new SqliteIdempotencyStore(db, { secretKey: secretKey.key }),
      requestLog,
      resources: {
        db,
        secretKey: secretKey.key,
        clock: wallClock,
        changeCounter,
        router,
        calls: liveCalls,
        metrics: { engineConnected },
        // The SSRF allow-list for webhook URLs, checked at creation (and by the dispatcher at delivery).
        webhooks: webhookPolicy,
        webhookDispatch,
        ...(registrar ? { sip: { qualifyStatus: (id: string) => registrar.qualifyStatus(id) } } : {}),
      },
      readiness: [
        {
          name: 'database',
          check: async () => {
            await pingDatabase(db);
            return true;
          },
        },
        { name: 'engine', check: engineConnected },
        ...(mediaReadiness ? [mediaReadiness] : []),
      ],
    });
    api = await listenApi(httpApp, { port: config.http.port, hostname: config.http.address });
    attachEventStream(api.server, stream, db);
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
