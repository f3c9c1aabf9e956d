import { createHash, randomBytes } from 'node:crypto';
import { familyOf } from '../core/local-address.js';
import type { ResolvedTarget } from '../core/resolver.js';
import { getHeader, getHeaderValues, setHeader } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import { buildResponse } from '../message/response.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import { effectiveMaxForwards } from '../message/validate.js';
import { parseVia } from '../message/via.js';
import { MAGIC_COOKIE } from '../transaction/keys.js';
import type { Flow } from '../transport/types.js';
import { isOurLooseRoute, isOurUri, routeUri, stripOurRoutes, topRoute } from './route-set.js';
import type { ProxyDeps } from './types.js';
import { isOurVia, topVia, viaDestination, withoutTopVia } from './via-stack.js';

type RelayDeps = Pick<ProxyDeps, 'local' | 'transactions' | 'sender' | 'resolve' | 'log' | 'cdr' | 'responseDestination'>;

/**
 * The stateless half of the proxy (RFC 3261 §16.11; drachtio-protocol §4.2 step 4, §4.9 step 7):
 * requests inside a dialog we record-routed come back with our Route on top and are forwarded
 * without keeping state; their responses come back as responses that match no client transaction
 * and are relayed by popping our Via.
 */
export class StatelessRelay {
  /** Mixed into stateless branches so they cannot be predicted from outside (RFC 3261 §16.11). */
  private readonly secret = randomBytes(16).toString('hex');

  constructor(
    private readonly deps: RelayDeps,
    /** Whether an ACK is the hop-by-hop ACK for a non-2xx final of an INVITE we proxy statefully. */
    private readonly isProxiedInviteAck: (req: SipRequest) => boolean,
  ) {}

  /**
   * Called for every valid request before transaction matching. Returns true when the request was
   * relayed (or answered) here. A request whose top Route is ours but that has no To tag is an
   * initial request with our route preloaded: the Route is removed and it continues to the core
   * (false), as does an in-dialog request that turns out to be addressed to us.
   */
  route(req: SipRequest, flow: Flow): boolean {
    const { local } = this.deps;
    const top = topRoute(req);
    if (top === undefined || !isOurLooseRoute(top, local)) return false;
    if (getTag(getHeader(req, 'to') ?? '') === undefined) {
      stripOurRoutes(req, local);
      return false;
    }
    // the ACK for a non-2xx repeats the INVITE's Route set (§17.1.1.3); its transaction absorbs it
    if (req.method === 'ACK' && this.isProxiedInviteAck(req)) return false;
    const fwd: SipRequest = { ...req, headers: req.headers.map((h) => ({ ...h })) };
    stripOurRoutes(fwd, local);
    const next = topRoute(fwd);
    const nextHop = next === undefined ? fwd.uri : routeUri(next);
    if (next === undefined && isOurUri(fwd.uri, local)) {
      req.headers = fwd.headers; // for us after all (a UA that preloaded our route in a dialog of ours)
      return false;
    }
    const maxForwards = effectiveMaxForwards(fwd);
    if (maxForwards <= 0) {
      if (req.method !== 'ACK') this.answer(req, flow, 483, 'Too Many Hops');
      return true;
    }
    setHeader(fwd, 'max-forwards', String(maxForwards - 1));
    if (nextHop === undefined) {
      this.deps.log.info({ route: next }, 'relay: next Route does not parse, request dropped');
      return true;
    }
    const branch = this.statelessBranch(req);
    let resolved: ResolvedTarget | Promise<ResolvedTarget>;
    try {
      resolved = this.deps.resolve(nextHop);
    } catch (err) {
      this.deps.log.info({ err, nextHop }, 'relay: next hop unusable, request dropped');
      return true;
    }
    if (resolved instanceof Promise) {
      resolved.then(
        (dest) => this.forward(fwd, dest, branch),
        (err: unknown) => this.deps.log.info({ err, nextHop }, 'relay: next hop does not resolve, request dropped'),
      );
    } else this.forward(fwd, resolved, branch);
    return true;
  }

  /**
   * Called for responses that matched no client transaction. When the top Via is ours and there is
   * another one below it, the response belongs to a request we relayed (or to a stateful branch
   * whose transaction is gone, e.g. a 2xx retransmitted after Timer M): pop our Via and send it to
   * the next one (RFC 3261 §16.7 step 3, §18.2.2). Otherwise false: the pipeline drops it.
   */
  response(res: SipResponse, _flow: Flow): boolean {
    const vias = getHeaderValues(res, 'via');
    const ours = topVia(res);
    if (!ours || !isOurVia(ours, this.deps.local)) return false;
    const next = vias[1] === undefined ? undefined : parseVia(vias[1])?.[0];
    if (!next) return false;
    const dest = viaDestination(next);
    this.deps.sender.send(serializeMessage(withoutTopVia(res)), dest).catch((err: unknown) => {
      this.deps.log.info({ err, dest, status: res.status }, 'relay: response not sent');
    });
    return true;
  }

  private forward(fwd: SipRequest, dest: ResolvedTarget, branch: string): void {
    const { local, log } = this.deps;
    if (local.isLocal(dest.address, dest.port, dest.protocol)) {
      log.info({ uri: fwd.uri, method: fwd.method }, 'relay: next hop is ourselves, request dropped (loop)');
      return;
    }
    const out = local.listenerFor(dest.protocol, familyOf(dest.address));
    if (!out) {
      log.info({ dest }, 'relay: no transport for the next hop, request dropped');
      return;
    }
    const isBye = fwd.method === 'BYE';
    if (isBye) this.deps.cdr('stop', 'network', fwd, 'normal-release');
    const sentBy = { protocol: dest.protocol, host: out.spec.advertisedHost, port: out.local.port };
    const { sent } = this.deps.transactions.sendStateless(fwd, dest, { sentBy, branch });
    sent.then(
      () => {
        if (isBye) this.deps.cdr('stop', 'application', fwd, 'normal-release');
      },
      (err: unknown) => log.info({ err, dest, method: fwd.method }, 'relay: request not sent'),
    );
  }

  /**
   * The branch of a relayed request (RFC 3261 §16.11): a function of the incoming branch, so that
   * a retransmission, and the CANCEL or non-2xx ACK of a relayed request, get the same one
   * downstream. For RFC 2543 peers without a magic cookie, the fields §16.11 lists stand in.
   */
  private statelessBranch(req: SipRequest): string {
    const incoming = topVia(req)?.branch;
    const key = incoming?.startsWith(MAGIC_COOKIE)
      ? incoming
      : [getHeaderValues(req, 'via')[0], getHeader(req, 'call-id'), getHeader(req, 'from'), getHeader(req, 'to'),
        (getHeader(req, 'cseq') ?? '').split(/\s+/)[0], req.uri].join('|');
    return `${MAGIC_COOKIE}sl${createHash('sha256').update(this.secret).update(key).digest('hex').slice(0, 24)}`;
  }

  /** A stateless answer to a request we cannot relay (RFC 3261 §16.3 step 3: 483). */
  private answer(req: SipRequest, flow: Flow, status: number, reason: string): void {
    const via = topVia(req);
    const dest = via ? this.deps.responseDestination(via, flow) : { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port };
    const res = buildResponse(req, status, reason, { toTag: 'sl' + Math.floor(Math.random() * 1e9).toString(36) });
    this.deps.sender.send(serializeMessage(res), dest).catch((err: unknown) => {
      this.deps.log.info({ err, status }, 'relay: stateless answer not sent');
    });
  }
}
