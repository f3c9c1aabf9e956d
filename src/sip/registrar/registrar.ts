/**
 * The registrar on drachtio-srf (RFC 3261 §10.3): REGISTER handling (register-handler.ts) over an
 * in-memory location service reloaded from the store at start and written through to it, plus
 * the periodic expiry sweep and the OPTIONS qualify of bindings.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import {
  appendOutboxEvents,
  applyRegistrationChanges,
  deleteExpiredRegistrations,
  inTransaction,
  loadLiveRegistrations,
  loadRegistrationsOfExtension,
  storeVersion,
  takeBindingsRemoved,
  type Db,
} from '../../store/index.js';
import type { BanList } from './ban-list.js';
import { BindingWriter } from './binding-writer.js';
import type { BindingEndReason, RegistrationEventSink } from './registration-events.js';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from './digest.js';
import { DirectoryCache } from './directory-cache.js';
import { bindingFromRegistration, LocationService, type Binding } from './location.js';
import { Qualifier, type Ping, type QualifyResult } from './qualify.js';
import { RegisterHandler, send, type BanEvent, type BindingChange } from './register-handler.js';
import { srfPing } from './srf-ping.js';

export type { BanEvent, BindingChange } from './register-handler.js';
export type { Binding } from './location.js';

/** Dependencies of {@link registerRegistrar}. */
export interface RegistrarDeps {
  db: Db;
  log: Logger;
  /** A wall clock (`now()` = `Date.now()`): expiries are stored as wall-clock instants. */
  clock: Clock;
  /** HMAC key of the nonces (≥ 16 bytes), shared by every instance that verifies them. */
  nonceSecret: Buffer | string;
  /** Tenant of requests whose domain is no tenant's (e.g. the PBX's IP address). */
  defaultTenantId: string;
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  maxContacts?: number;
  /** Challenges offered, in order (default SHA-256 then MD5, RFC 8760 §2.4). */
  challengeAlgorithms?: readonly DigestAlgorithm[];
  /** Sources with too many failures get no answer at all (RFC 3261 §26.3.2.4). */
  banList?: BanList;
  /** A source was banned; logged as `security.ban` when not given (the event bus comes later). */
  onBan?: (ban: BanEvent) => void;
  onBindingChange?: (change: BindingChange) => void;
  /** Bindings removed by the expiry sweep. */
  onExpired?: (expired: Binding[]) => void;
  /** registration.created/expired to the outbox, in the transaction of the binding change; absent → none. */
  events?: RegistrationEventSink;
  /** Expiry sweep period in ms (default 10 000). */
  sweepIntervalMs?: number;
  /** See PlanOptions.refreshWriteSlackMs (default 30 000). */
  refreshWriteSlackMs?: number;
  /** Directory cache TTL for writes from other processes (default 30 000 ms). */
  cacheTtlMs?: number;
  /** OPTIONS qualify; `false` turns it off. `ping` replaces the srf OPTIONS (tests). */
  qualify?: false | { intervalMs?: number; maxFailures?: number; concurrency?: number; timeoutMs?: number; ping?: Ping };
}

/** The running registrar: live state for the API, and a stop that flushes the store writes. */
export interface RunningRegistrar {
  readonly location: LocationService;
  /** Last OPTIONS result of a binding (`ResourceDeps.sip.qualifyStatus`). */
  qualifyStatus(registrationId: string): QualifyResult | undefined;
  /** Run one expiry sweep now (also runs on its timer). */
  sweep(): Promise<void>;
  /** Run one qualify round now (also runs on its timer). */
  qualifyNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Load the live bindings, answer REGISTER on `srf` (the route is announced at once; requests
 * arriving during the load wait for it), and start the sweep and qualify timers.
 */
export async function registerRegistrar(srf: Srf, deps: RegistrarDeps): Promise<RunningRegistrar> {
  const { db, log, clock } = deps;
  const location = new LocationService();
  const writer = new BindingWriter(async (changes, events) => {
    if (events.length === 0) return applyRegistrationChanges(db, changes);
    await inTransaction(db, async (trx) => {
      await applyRegistrationChanges(trx, changes);
      await appendOutboxEvents(trx, events);
    });
    deps.events?.committed();
  });
  const directory = new DirectoryCache({ db, clock, ...(deps.cacheTtlMs !== undefined ? { ttlMs: deps.cacheTtlMs } : {}) });
  const loaded = (async () => {
    await directory.preload();
    await deleteExpiredRegistrations(db, new Date(clock.now()).toISOString());
    location.load((await loadLiveRegistrations(db, new Date(clock.now()).toISOString())).map(bindingFromRegistration));
    log.info({ bindings: location.size }, 'registrar: bindings reloaded');
  })();
  const onBindingChange = deps.onBindingChange ?? (() => undefined);
  let qualifier: Qualifier | undefined;
  const forget = (removed: Binding[]): void => {
    for (const b of removed) qualifier?.forget(b.id);
  };
  const notify = (removed: Binding[]): void => {
    for (const extensionId of new Set(removed.map((b) => b.extensionId))) {
      const first = removed.find((b) => b.extensionId === extensionId)!;
      onBindingChange({ tenantId: first.tenantId, extensionId, aor: first.aor, bindings: location.live(extensionId, clock.now()) });
    }
  };

  // Bindings the API removed (force-unregister, new credentials, disabled or deleted extension) go
  // from memory too. Single flight: concurrent REGISTERs wait for the one resync in progress.
  let seenRemovals = storeVersion('registrations');
  let resyncing: Promise<void> | undefined;
  const resync = (): Promise<void> => {
    if (resyncing) return resyncing;
    if (storeVersion('registrations') === seenRemovals) return Promise.resolve();
    resyncing = (async () => {
      seenRemovals = storeVersion('registrations');
      const taken = takeBindingsRemoved();
      // Our own queued writes land first, so the store is compared with what we last wrote.
      await writer.barrier();
      const ids = taken === 'all' ? [...new Set([...location.values()].map((b) => b.extensionId))] : taken;
      for (const extensionId of ids) {
        const stored = new Set((await loadRegistrationsOfExtension(db, extensionId)).map((r) => r.contactUri));
        const gone = location.all(extensionId).filter((b) => !stored.has(b.contactUri));
        for (const b of gone) location.delete(b.extensionId, b.contactUri);
        if (gone.length > 0) {
          forget(gone);
          notify(gone);
        }
      }
    })().finally(() => (resyncing = undefined));
    return resyncing;
  };

  const handler = new RegisterHandler({
    log,
    clock,
    nonceSecret: deps.nonceSecret,
    defaultTenantId: deps.defaultTenantId,
    directory,
    location,
    writer,
    plan: {
      limits: { minExpires: deps.minExpires ?? 60, maxExpires: deps.maxExpires ?? 3600, defaultExpires: deps.defaultExpires ?? 3600 },
      maxContacts: deps.maxContacts ?? 5,
      refreshWriteSlackMs: deps.refreshWriteSlackMs ?? 30_000,
    },
    challengeAlgorithms: deps.challengeAlgorithms ?? DIGEST_ALGORITHMS,
    banList: deps.banList,
    onBan: deps.onBan ?? ((ban) => log.warn({ event: 'security.ban', ...ban, until: new Date(ban.until).toISOString() }, 'security.ban: source banned after repeated REGISTER failures')),
    onBindingChange,
    onRemoved: forget,
    resync,
    ...(deps.events && { events: deps.events }),
  });
  srf.use('register', (req, res) => {
    loaded
      .then(() => handler.handle(req, res))
      .catch((err: unknown) => {
        log.error({ err, callId: req.get('Call-ID') }, 'REGISTER failed');
        send(res, 500, {});
      });
  });

  // Drop bindings by key, not by stored expiry: a refresh that was not written leaves an older
  // expiry in the store than in memory, and a time-based delete would lose a live binding.
  const drop = async (removed: Binding[], reason: BindingEndReason): Promise<void> => {
    if (removed.length === 0) return;
    forget(removed);
    // `removed` is out of memory already: what was live before is what is left plus what went.
    const now = clock.now();
    const liveBefore = (extensionId: string): number => location.live(extensionId, now).length + removed.filter((b) => b.extensionId === extensionId).length;
    const events = deps.events ? await deps.events.ended(removed, reason, liveBefore) : [];
    await writer.write(removed.map((b) => ({ kind: 'delete' as const, extensionId: b.extensionId, contactUri: b.contactUri })), events);
    notify(removed);
  };
  let sweepTimer: TimerHandle | undefined;
  let stopped = false;
  const sweep = async (): Promise<void> => {
    await resync();
    const expired = location.takeExpired(clock.now());
    await drop(expired, 'expired');
    if (expired.length > 0) deps.onExpired?.(expired);
  };
  const scheduleSweep = (): void => {
    if (stopped) return;
    sweepTimer = clock.setTimeout(() => {
      sweep()
        .catch((err: unknown) => log.error({ err }, 'registrar: expiry sweep failed'))
        .finally(scheduleSweep);
    }, deps.sweepIntervalMs ?? 10_000);
  };
  scheduleSweep();

  if (deps.qualify !== false) {
    const q = deps.qualify ?? {};
    qualifier = new Qualifier({
      clock,
      ping: q.ping ?? srfPing(srf),
      bindings: () => location.values(),
      ...(q.intervalMs !== undefined ? { intervalMs: q.intervalMs } : {}),
      ...(q.maxFailures !== undefined ? { maxFailures: q.maxFailures } : {}),
      ...(q.concurrency !== undefined ? { concurrency: q.concurrency } : {}),
      ...(q.timeoutMs !== undefined ? { timeoutMs: q.timeoutMs } : {}),
      onUnreachable: (b) => {
        // Only if the phone has not re-registered since the round began.
        const current = location.all(b.extensionId).find((x) => x.contactUri === b.contactUri);
        if (current?.updatedAt !== b.updatedAt) return;
        location.delete(b.extensionId, b.contactUri);
        log.info({ extensionId: b.extensionId, contact: b.contactUri }, 'registrar: binding dropped after failed qualify');
        drop([b], 'removed').catch((err: unknown) => log.error({ err }, 'registrar: dropping an unreachable binding failed'));
      },
    });
    void loaded.then(() => qualifier?.start(), () => undefined);
  }

  return {
    location,
    qualifyStatus: (id) => qualifier?.status(id),
    sweep,
    qualifyNow: () => qualifier?.runOnce() ?? Promise.resolve(),
    async stop() {
      stopped = true;
      clock.clearTimeout(sweepTimer);
      qualifier?.stop();
      await loaded.catch(() => undefined);
      await writer.drain();
    },
  };
}
