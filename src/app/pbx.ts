import { createHmac } from 'node:crypto';
import type { AppConfig } from '../config/load-config.js';
import { EventBus } from '../events/event-bus.js';
import type { PbxEvents } from '../events/pbx-events.js';
import type { MediaRuntime } from '../media/start-media.js';
import type { Logger } from '../obs/logger.js';
import { callControlOf } from '../pbx/calls/call-control.js';
import { CallService } from '../pbx/calls/call-service.js';
import { LiveCalls } from '../pbx/calls/live-calls.js';
import type { Dialplan } from '../pbx/dialplan/dialplan.js';
import { createCallRouter } from '../pbx/dialplan/router.js';
import { CallOutbox } from '../pbx/events/call-outbox.js';
import { RegistrationOutbox } from '../pbx/events/registration-outbox.js';
import { SecurityOutbox } from '../pbx/events/security-outbox.js';
import { createRingGroupResolver } from '../pbx/ring-groups/index.js';
import { wallClock } from '../shared/clock.js';
import { BanList } from '../sip/registrar/ban-list.js';
import type { SipApp } from '../sip/sip-app.js';
import { listTenants, type Db, type Tenant } from '../store/index.js';
import type { SeedResult } from '../store/seed.js';

/** Live calls one extension may be party to (a phone's usual line-key count). */
const maxCallsPerExtension = 4;

/** What the PBX side of main is built from. */
export interface PbxContext {
  config: AppConfig;
  db: Db;
  secretKey: Buffer;
  log: Logger;
  /** The `sip` component's logger: the registrar's and the INVITE route's are its children. */
  sipLog: Logger;
  app: SipApp;
  /** Wakes the outbox readers after a commit (see event-delivery.ts). */
  wake: () => void;
}

type Registrar = Awaited<ReturnType<SipApp['startRegistrar']>>;

/** Digest nonces are signed with a key derived from the secret key, so they stay valid across a restart. */
const nonceSecretOf = (secretKey: Buffer): Buffer => createHmac('sha256', secretKey).update('sip-digest-nonce').digest();

/**
 * The registrar, with its ban list and events. Requests to the PBX's own address (or any domain
 * that is no tenant's) belong to the first tenant (product.md §2 item 1); without a tenant there is
 * nobody to register, and no registrar.
 */
export async function startRegistration(ctx: PbxContext, seed: SeedResult | undefined): Promise<{ defaultTenant: Tenant | undefined; registrar: Registrar | undefined }> {
  const { db, log, app } = ctx;
  const defaultTenant = seed?.tenant ?? (await listTenants(db, { limit: 1 })).items[0];
  const registrarLog = ctx.sipLog.child({ component: 'registrar' });
  const securityOutbox = defaultTenant && new SecurityOutbox({ db, clock: wallClock, log: log.child({ component: 'events' }), tenantId: defaultTenant.id, onCommitted: () => ctx.wake() });
  const registrar = !defaultTenant ? undefined : await app.startRegistrar({
      db,
      log: registrarLog,
      clock: wallClock,
      nonceSecret: nonceSecretOf(ctx.secretKey),
      defaultTenantId: defaultTenant.id,
      banList: new BanList({ clock: wallClock }),
      // Logged as before, and written to the outbox as security.ban (reported to the default tenant).
      onBan: (ban) => {
        registrarLog.warn({ event: 'security.ban', ...ban, until: new Date(ban.until).toISOString() }, 'security.ban: source banned after repeated REGISTER failures');
        void securityOutbox?.sipBan(ban);
      },
      // registration.created/expired, committed with the bindings.
      events: new RegistrationOutbox({ db, clock: wallClock, log: log.child({ component: 'events' }), onCommitted: () => ctx.wake() }),
      challengeAlgorithms: ctx.config.registrar.digestAlgorithms,
      qualify: ctx.config.registrar.qualifySeconds === 0 ? false : { intervalMs: ctx.config.registrar.qualifySeconds * 1000 },
    });
  return { defaultTenant, registrar };
}

/**
 * Calls: the event bus, the call service, the router and the live-calls view. Calls this instance
 * left open at a crash are closed (interrupted) first. The INVITE route is {@link routeInvites}.
 */
export async function startCalls(ctx: PbxContext, deps: { instanceId: string; dialplan: Dialplan }): Promise<{ callService: CallService; router: ReturnType<typeof createCallRouter>; liveCalls: LiveCalls }> {
  const { db, log, config } = ctx;
  // The event bus (consumers come with webhooks/WebSocket) and the call service.
  const events = new EventBus<PbxEvents>((err, type) => log.warn({ err, type }, 'event listener failed'));
  const callService = new CallService({
    db,
    bus: events,
    clock: wallClock,
    instanceId: deps.instanceId,
    log: log.child({ component: 'calls' }),
    ringTimeoutMs: config.calls.ringTimeoutSeconds * 1000,
    maxCallsPerExtension,
    outbox: new CallOutbox({ db, clock: wallClock, log: log.child({ component: 'events' }), onCommitted: () => ctx.wake() }),
  });
  await callService.recoverInterruptedCalls();
  // Where dialled numbers go (dialplan, forwarding, DND, call limits); the INVITE handler and
  // POST /api/v1/routing/simulate ask the same router. Ring groups plug in as `ringGroups`.
  const router = createCallRouter({
    db,
    clock: wallClock,
    log: log.child({ component: 'routing' }),
    dialplan: deps.dialplan,
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
  return { callService, router, liveCalls };
}

/** The INVITE route (needs the registrar's location service); click-to-call originates through it. */
export function routeInvites(
  ctx: PbxContext,
  deps: { registrar: Registrar; defaultTenant: Tenant; media: MediaRuntime; calls: Awaited<ReturnType<typeof startCalls>> },
): void {
  const sipCalls = ctx.app.startCalls({
    db: ctx.db,
    log: ctx.sipLog.child({ component: 'calls' }),
    clock: wallClock,
    nonceSecret: nonceSecretOf(ctx.secretKey),
    defaultTenantId: deps.defaultTenant.id,
    location: deps.registrar.location,
    calls: callControlOf(deps.calls.callService),
    router: deps.calls.router,
    media: deps.media.anchor,
    challengeAlgorithms: ctx.config.registrar.digestAlgorithms,
  });
  deps.calls.liveCalls.useOriginator(sipCalls);
}
