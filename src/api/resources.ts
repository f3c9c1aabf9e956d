import type { TargetPolicy } from '../events/webhooks/webhook-target.js';
import type { LiveCalls } from '../pbx/calls/live-calls.js';
import type { Clock } from '../shared/clock.js';
import type { CallRouter } from '../sip/calls/ports.js';
import type { Db } from '../store/index.js';
import type { ChangeCounter, ReadCache } from './read-cache.js';

/**
 * What resource routes (src/api/routes/*) need: the store, the secret key that encrypts SIP
 * passwords at rest, and a wall clock for stored instants (expiries, sessions). Built by main.ts,
 * and by `testApiWithStore()` in tests.
 */
export interface ResourceDeps {
  db: Db;
  secretKey: Buffer;
  /** Wall clock (`now()` = ms since the epoch): session and key expiries are stored instants. */
  clock: Clock;
  /**
   * Live registrar state for extension status and registrations (in-memory bindings, qualify
   * results); optional so the API runs without SIP (tests, tools).
   */
  sip?: SipStatusPort;
  /**
   * The store's change counter (main.ts: `store.changeCounter`); with it, hot list routes answer
   * from a {@link ReadCache} that a write invalidates at once (see read-cache.ts). Without it
   * (tests, tools) every request runs its queries.
   */
  changeCounter?: ChangeCounter;
  /** The list-answer cache; built by `registerResourceRoutes` from `changeCounter` unless given. */
  readCache?: ReadCache;
  /**
   * The call router the INVITE handler uses (src/pbx/dialplan/router.ts), for
   * `POST /api/v1/routing/simulate`; without it (API-only tests, tools) that route answers 503.
   */
  router?: CallRouter;
  /**
   * The webhook SSRF policy: the admin allow-list (from SWITCHBOARD_WEBHOOK_ALLOWLIST) and the
   * resolver (system DNS unless a test injects one). Absent → nothing allow-listed, system DNS.
   */
  webhooks?: TargetPolicy;
  /** The PBX's live calls (`/api/v1/calls`); without them (tools, tests without a PBX) those routes answer 503. */
  calls?: LiveCalls;
  /**
   * The webhook dispatcher (pbx/events), woken when a delivery is requeued so it is sent now rather
   * than at the next poll; absent (tests, tools) → the requeued row waits for whoever dispatches.
   */
  webhookDispatch?: { wake(): void };
  /** Live values for the `/metrics` gauges that the store cannot answer (engine link state…). */
  metrics?: MetricsSources;
}

/**
 * Gauge sources for `/metrics`, read at scrape time. Each is optional: extension and registration
 * counts default to the store's; `engineConnected` is reported only when main.ts supplies it.
 */
export interface MetricsSources {
  registrations?(): number | Promise<number>;
  extensions?(): number | Promise<number>;
  engineConnected?(): boolean | Promise<boolean>;
}

/** What the API may ask the SIP side about live registrations (filled in by sip/ via main.ts). */
export interface SipStatusPort {
  /** Last OPTIONS qualify result of a binding, keyed by registration id. */
  qualifyStatus?(registrationId: string): { reachable: boolean; rttMs?: number; checkedAt: string } | undefined;
}
