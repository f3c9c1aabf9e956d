import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './env.js';

/** A listening API server: its bound address and a graceful close. */
export interface RunningApi {
  address: AddressInfo;
  /** The Node HTTP server, for what shares its port (the `/ws` event stream's upgrades). */
  server: Server;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/**
 * Puts the app on @hono/node-server. Kept apart from `createApi` so that tests use `app.request()`
 * in-process and only main.ts opens a port. `port: 0` picks a free one (see `address.port`).
 */
export function listenApi(app: OpenAPIHono<ApiEnv>, opts: { port: number; hostname?: string }): Promise<RunningApi> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.hostname ?? '0.0.0.0' }, (address) => {
      server.off('error', reject);
      resolve({
        address,
        server: server as Server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
