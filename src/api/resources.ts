import type { Clock } from '../shared/clock.js';
import type { Db } from '../store/index.js';

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
}

/** What the API may ask the SIP side about live registrations (filled in by sip/ via main.ts). */
export interface SipStatusPort {
  /** Last OPTIONS qualify result of a binding, keyed by registration id. */
  qualifyStatus?(registrationId: string): { reachable: boolean; rttMs?: number; checkedAt: string } | undefined;
}
