/**
 * Routing of new out-of-dialog requests by drachtio's request handler (docs/drachtio-protocol.md
 * §2.2, §6) instead of by the apps' `route` verbs: a `tcp://`/`tls://` handler URL sends every
 * request to an srf.listen app over an outbound connection; an `http(s)://` one is asked per
 * request and answers reject, redirect, proxy or route.
 */
import { uuid } from '../../shared/ids.js';
import type { AppConnection, Logger, RequestRouting, ServerTxn } from '../core/ports.js';
import { buildResponse, reasonPhrase } from '../message/response.js';
import { askHandler, type HandlerAction, type HttpHandlerTarget } from './http-handler.js';

/** The handler as configured (`--http-handler`, `--http-method`). */
export interface RequestHandlerConfig {
  /** `http://…`, `https://…`, `tcp://host:port` or `tls://host:port`. */
  url: string;
  method: 'GET' | 'POST';
  /** Time allowed for the HTTP call (ms), default 5000. */
  timeoutMs?: number;
}

/** What routing needs of the engine around it. */
export interface RequestRoutingDeps {
  /** Dial an srf.listen app and resolve once it authenticated (`WireServer.connectOutbound`). */
  connectOutbound(uri: string): Promise<AppConnection>;
  /** An inbound app connection that routed `verb` and authenticated with `tag` (`WireServer.pickClient`). */
  pickClient(verb: string, tag: string): AppConnection | undefined;
  /** Run the stateful proxy for a request no app owns (`StatefulProxy.proxyWithoutApp`). */
  proxy(txn: ServerTxn, opts: { destinations: string[]; remainInDialog: boolean; followRedirects: boolean; simultaneous: boolean; provisionalTimeoutMs?: number }): void;
  log: Logger;
}

/**
 * `tcp://host:port` / `tls://host:port` → the `host:port;transport=…` form of a route action's
 * uri; undefined for an http(s) URL.
 */
export function outboundUriOf(url: string): string | undefined {
  const m = /^(tcp|tls):\/\/([^/?#]+)\/?$/i.exec(url.trim());
  return m ? `${m[2]};transport=${m[1]!.toLowerCase()}` : undefined;
}

/** One request being routed; `cancelled` once a CANCEL answered it 487: then nothing more is done with it. */
interface Routing {
  cancelled: boolean;
}

/** drachtio's request handler as the core's {@link RequestRouting} port. */
export class HandlerRouting implements RequestRouting {
  /**
   * One outbound connection per URI, kept open for later requests (drachtio does the same); a
   * closed one (srf's `endSession`, or its automatic 404) is replaced on the next request.
   */
  private readonly outbound = new Map<string, { pending: Promise<AppConnection>; conn?: AppConnection }>();
  /** Requests still being routed, by server transaction id; `cancelled` once a CANCEL answered them 487. */
  private readonly routing = new Map<string, Routing>();
  private readonly direct: string | undefined;
  private readonly http: HttpHandlerTarget;

  constructor(
    cfg: RequestHandlerConfig,
    private readonly deps: RequestRoutingDeps,
  ) {
    this.direct = outboundUriOf(cfg.url);
    this.http = { url: cfg.url, method: cfg.method, timeoutMs: cfg.timeoutMs ?? 5000 };
  }

  route(txn: ServerTxn, deliver: (owner: AppConnection) => void): void {
    const state: Routing = { cancelled: false };
    this.routing.set(txn.id, state);
    const work = this.direct !== undefined ? this.toOutbound(txn, state, this.direct, deliver) : this.viaHttp(txn, state, deliver);
    work
      .catch((err: unknown) => {
        // A bug below must not leave the caller without an answer or reject unhandled.
        this.deps.log.error({ err, method: txn.request.method }, 'request routing failed');
        if (!state.cancelled) this.reply(txn, 500);
      })
      .finally(() => this.routing.delete(txn.id));
  }

  cancel(inviteTxn: ServerTxn): boolean {
    const state = this.routing.get(inviteTxn.id);
    if (!state || state.cancelled) return false;
    this.reply(inviteTxn, 487, 'Request Terminated');
    state.cancelled = true;
    return true;
  }

  private async viaHttp(txn: ServerTxn, state: Routing, deliver: (owner: AppConnection) => void): Promise<void> {
    let action: HandlerAction;
    try {
      action = await askHandler(this.http, txn.request, txn.flow);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, url: this.http.url }, 'request handler failed');
      if (!state.cancelled) this.reply(txn, 500);
      return;
    }
    if (state.cancelled) return;
    switch (action.action) {
      case 'reject':
        return this.reply(txn, action.status, action.reason);
      case 'redirect':
        return this.reply(txn, 302, undefined, action.contacts.map((c): [string, string] => ['Contact', c.includes('<') ? c : `<${c}>`]));
      case 'proxy':
        return this.deps.proxy(txn, {
          destinations: action.destinations,
          remainInDialog: action.recordRoute,
          followRedirects: action.followRedirects,
          simultaneous: action.simultaneous,
          ...(action.provisionalTimeoutMs !== undefined ? { provisionalTimeoutMs: action.provisionalTimeoutMs } : {}),
        });
      case 'route': {
        if ('uri' in action) return this.toOutbound(txn, state, action.uri, deliver);
        const owner = this.deps.pickClient(txn.request.method.toLowerCase(), action.tag);
        if (!owner) return this.reply(txn, 503);
        return deliver(owner);
      }
    }
  }

  /** §2.2: deliver on the open connection to that app, connecting first if needed; 480 when it cannot be reached. */
  private async toOutbound(txn: ServerTxn, state: Routing, uri: string, deliver: (owner: AppConnection) => void): Promise<void> {
    let owner: AppConnection;
    try {
      owner = await this.connect(uri);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, uri }, 'cannot reach the srf.listen app');
      if (!state.cancelled) this.reply(txn, 480);
      return;
    }
    if (state.cancelled) return;
    if (owner.closed) return this.reply(txn, 480);
    deliver(owner);
  }

  private connect(uri: string): Promise<AppConnection> {
    const cached = this.outbound.get(uri);
    if (cached && !cached.conn?.closed) return cached.pending;
    const entry: { pending: Promise<AppConnection>; conn?: AppConnection } = { pending: this.deps.connectOutbound(uri) };
    this.outbound.set(uri, entry);
    entry.pending.then(
      (conn) => {
        entry.conn = conn;
      },
      () => {
        if (this.outbound.get(uri) === entry) this.outbound.delete(uri);
      },
    );
    return entry.pending;
  }

  private reply(txn: ServerTxn, status: number, reason?: string, headers?: Array<[string, string]>): void {
    txn.respond(buildResponse(txn.request, status, reason ?? reasonPhrase(status), { toTag: uuid().slice(0, 8), ...(headers ? { headers } : {}) }));
  }
}
