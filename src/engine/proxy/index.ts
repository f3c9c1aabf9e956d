/**
 * The embedded engine's proxy (drachtio-protocol §4.9): `createEngineProxy` wires a
 * {@link StatefulProxy} to the drachtio core and the transaction layer of one EngineServer.
 */
import type { Clock } from '../../shared/clock.js';
import type { EngineCore } from '../core/engine-core.js';
import type { LocalAddresses } from '../core/local-address.js';
import type { Logger } from '../core/ports.js';
import type { Via } from '../message/types.js';
import type { MessageSender, TimerConfig } from '../transaction/types.js';
import type { Destination, Flow } from '../transport/types.js';
import { resolveTarget } from './resolve-target.js';
import { StatefulProxy } from './stateful-proxy.js';
import { takeOverInbound } from './takeover.js';
import type { ProxyTransactions } from './types.js';

export { StatefulProxy } from './stateful-proxy.js';
export type { ProxyDeps, ProxyTransactions } from './types.js';

export interface EngineProxyDeps {
  core: EngineCore;
  transactions: ProxyTransactions;
  sender: MessageSender;
  local: LocalAddresses;
  clock: Clock;
  log: Logger;
  timers: TimerConfig;
  responseDestination: (via: Via, flow: Flow) => Destination;
}

/** The proxy for one engine: pending requests are taken from `core`, CDRs go out through it too. */
export function createEngineProxy(d: EngineProxyDeps): StatefulProxy {
  const ctx = d.core.ctx;
  return new StatefulProxy({
    clock: d.clock,
    log: d.log,
    t1x64: d.timers.t1x64,
    timerC: d.timers.timerC,
    transactions: d.transactions,
    sender: d.sender,
    local: d.local,
    responseDestination: d.responseDestination,
    takeOver: (txnId) => takeOverInbound(ctx, txnId),
    resolve: resolveTarget,
    cdr: (kind, source, msg, extra) => ctx.cdr(kind, source, msg, extra),
    preserveHeaderNames: ctx.deps.config.preserveHeaderNames,
  });
}
