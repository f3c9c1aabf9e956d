/**
 * Calls on drachtio-srf: the INVITE route. Needs the registrar's location service (the callee's
 * live contacts) and directory (tenants, credentials), so it starts after the registrar.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Db } from '../../store/index.js';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../registrar/digest.js';
import { DirectoryCache } from '../registrar/directory-cache.js';
import type { LocationService } from '../registrar/location.js';
import { send } from '../registrar/register-handler.js';
import { InviteAuthenticator } from './invite-auth.js';
import { InviteHandler } from './invite-handler.js';
import { createOriginator, type OriginateRequest, type OriginateResult } from './originate.js';
import type { CallControl, CallRouter, SdpAnchor } from './ports.js';

export type * from './ports.js';
export type { OriginateRequest, OriginateResult } from './originate.js';

export interface CallsDeps {
  db: Db;
  log: Logger;
  clock: Clock;
  nonceSecret: Buffer | string;
  defaultTenantId: string;
  location: LocationService;
  calls: CallControl;
  media: SdpAnchor;
  router: CallRouter;
  challengeAlgorithms?: readonly DigestAlgorithm[];
}

/** What the calls module offers the rest of the app once its INVITE route runs. */
export interface RunningCalls {
  /** Click-to-call (src/sip/calls/originate.ts); the live-calls API reaches it through src/pbx. */
  originate(input: OriginateRequest): Promise<OriginateResult>;
}

export function registerCalls(srf: Srf, deps: CallsDeps): RunningCalls {
  const directory = new DirectoryCache({ db: deps.db, clock: deps.clock });
  const auth = new InviteAuthenticator({
    clock: deps.clock,
    nonceSecret: deps.nonceSecret,
    defaultTenantId: deps.defaultTenantId,
    directory,
    challengeAlgorithms: deps.challengeAlgorithms ?? DIGEST_ALGORITHMS,
  });
  const handler = new InviteHandler({ srf, db: deps.db, log: deps.log, clock: deps.clock, auth, location: deps.location, calls: deps.calls, media: deps.media, router: deps.router });
  srf.invite((req, res) => {
    handler.handle(req, res).catch((err: unknown) => {
      deps.log.error({ err, sipCallId: req.get('Call-ID') }, 'INVITE failed');
      send(res, 500, {});
    });
  });
  return createOriginator({ srf, db: deps.db, log: deps.log, clock: deps.clock, location: deps.location, calls: deps.calls, media: deps.media, router: deps.router, bridge: handler.bridgeDeps });
}
