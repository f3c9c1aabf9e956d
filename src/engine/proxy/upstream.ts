import { uuid } from '../../shared/ids.js';
import { buildResponse } from '../message/response.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import { proxyContinue, proxyDone, responseNok } from '../wire/meta.js';
import type { ProxyDeps, ProxySource } from './types.js';
import { withoutTopVia } from './via-stack.js';

/**
 * The upstream side of a proxy operation: the server transaction of the received request and the
 * app that asked for the proxy (drachtio-protocol §4.9 steps 3 and 5).
 */
export class Upstream {
  /** What went upstream as the final response. */
  final: 'none' | '2xx' | 'failure' = 'none';
  /** `done` (or NOK) was sent to the app: nothing more goes to it. */
  ended = false;
  private readonly isInvite: boolean;
  /** Without fullResponse the app got `done` as soon as a branch started and hears nothing more. */
  private released = false;

  constructor(
    private readonly deps: ProxyDeps,
    private readonly src: ProxySource,
  ) {
    this.isInvite = src.req.method === 'INVITE';
  }

  /** Forward a branch's response as is, minus our Via (RFC 3261 §16.7 steps 3 and 9). */
  forward(res: SipResponse): void {
    this.src.txn.respond(withoutTopVia(res));
  }

  /** A branch's final response, or one we generate, becomes the final response upstream. */
  sendFinal(res: SipResponse, generated = false): void {
    const out = generated ? res : withoutTopVia(res);
    this.final = res.status < 300 ? '2xx' : 'failure';
    this.src.txn.respond(out);
    if (!this.isInvite) return;
    if (res.status < 300) this.deps.cdr('start', 'application', out, 'proxy-uas');
    else this.deps.cdr('stop', 'application', out, res.status === 487 ? 'call-canceled' : 'call-rejected');
  }

  /** A response of our own (408, 487, 500) to the received request. */
  generate(status: number, reason: string): void {
    this.sendFinal(buildResponse(this.src.req, status, reason, { toTag: uuid().slice(0, 8) }), true);
  }

  /** A branch's final response for the app: `OK|network|…|continue` (§4.9 step 5). */
  report(res: SipResponse, flow: Flow): void {
    if (this.ended) return;
    const peer = { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port };
    this.toApp(proxyContinue(this.src.msgId, peer, serializeMessage(res).toString('utf8')));
  }

  /** `OK|done`: srf resolves `proxyRequest` with what the `continue` frames told it. */
  done(): void {
    if (this.ended) return;
    this.ended = true;
    this.toApp(proxyDone(this.src.msgId));
  }

  /**
   * drachtio without fullResponse: `done` right after the request went out, nothing after it. The
   * operation itself goes on; {@link ended} still tells when it is over.
   */
  release(): void {
    if (this.ended || this.released) return;
    this.toApp(proxyDone(this.src.msgId));
    this.released = true;
  }

  /** The operation failed as a whole (no branch could start). */
  nok(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.toApp(responseNok(this.src.msgId, reason));
  }

  private toApp(payload: string): void {
    if (!this.released && !this.src.conn.closed) this.src.conn.send(payload);
  }
}
