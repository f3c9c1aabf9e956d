import { apiKeyAuth } from '../api/api-key-auth.js';
import { createApi } from '../api/app.js';
import { sessionBearerResolver } from '../api/auth/session-resolver.js';
import type { ChangeCounter } from '../api/read-cache.js';
import type { ResourceDeps } from '../api/resources.js';
import { SqliteIdempotencyStore } from '../api/sqlite-idempotency.js';
import type { TargetPolicy } from '../events/webhooks/webhook-target.js';
import type { MediaRuntime } from '../media/start-media.js';
import type { Logger } from '../obs/logger.js';
import type { LiveCalls } from '../pbx/calls/live-calls.js';
import { ApiErrorOutbox } from '../pbx/events/api-error-outbox.js';
import { wallClock } from '../shared/clock.js';
import { pingDatabase, RequestLogWriter, type Db } from '../store/index.js';
import { packageVersion } from './banner.js';

/**
 * The API's request log: buffered, so requests never wait for it; a failed batch is logged, not
 * thrown. api.error events commit with the batch of log lines they describe (issue 5 §2).
 */
export function createRequestLog(db: Db, deps: { log: Logger; apiLog: Logger; wake: () => void }): RequestLogWriter {
  const apiErrors = new ApiErrorOutbox({ clock: wallClock, log: deps.log.child({ component: 'events' }), onCommitted: () => deps.wake() });
  return new RequestLogWriter(db, {
    onError: (err) => deps.apiLog.warn({ err }, 'could not write the API request log'),
    events: apiErrors.events,
    onEventsCommitted: () => apiErrors.committed(),
  });
}

/** What the HTTP app is built from (main.ts has built each of these). */
export interface HttpAppDeps {
  db: Db;
  secretKey: Buffer;
  apiLog: Logger;
  requestLog: RequestLogWriter;
  changeCounter: ChangeCounter;
  router: NonNullable<ResourceDeps['router']>;
  liveCalls: LiveCalls;
  webhookPolicy: TargetPolicy;
  webhookDispatch: { wake(): void };
  /** The registrar's qualify results, when there is a registrar. */
  sip: ResourceDeps['sip'] | undefined;
  /** The engine's link is up (readiness and `/metrics`). */
  engineConnected: () => boolean;
  mediaReadiness: MediaRuntime['readiness'];
}

/** The Hono app: auth (API keys and user sessions), idempotency, the request log, resources and readiness checks. */
export function createHttpApp(deps: HttpAppDeps): ReturnType<typeof createApi> {
  const { db, engineConnected, mediaReadiness } = deps;
  return createApi({
    logger: deps.apiLog,
    version: packageVersion(),
    // API keys, and user sessions (sbt_ access tokens from POST /api/v1/auth/login).
    auth: apiKeyAuth({ db, resolveBearer: sessionBearerResolver({ db, clock: wallClock }) }),
    idempotency: new SqliteIdempotencyStore(db, { secretKey: deps.secretKey }),
    requestLog: deps.requestLog,
    resources: {
      db,
      secretKey: deps.secretKey,
      clock: wallClock,
      changeCounter: deps.changeCounter,
      router: deps.router,
      calls: deps.liveCalls,
      metrics: { engineConnected },
      // The SSRF allow-list for webhook URLs, checked at creation (and by the dispatcher at delivery).
      webhooks: deps.webhookPolicy,
      webhookDispatch: deps.webhookDispatch,
      ...(deps.sip ? { sip: deps.sip } : {}),
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
}
