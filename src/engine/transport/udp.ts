/**
 * SIP over UDP (RFC 3261 §18.1.1, §18.2.1): one socket per listener, one datagram per message.
 * Datagrams are handed up whole; the message layer applies Content-Length and discards trailing
 * bytes (RFC 3261 §18.3 allows a datagram body longer than Content-Length).
 */
import dgram from 'node:dgram';
import { addressFamily, isBroadcastAddress, isUnspecifiedAddress, normalizeAddress } from './address.js';
import { describeListener, type EndpointContext, type TransportEndpoint } from './endpoint.js';
import type { Destination, Flow, ListenSpec, ListeningTransport } from './types.js';

/** Socket buffers big enough to ride out bursts (registration storms, retransmission waves). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Whether a datagram is only line ends: keepalives some UAs send over UDP; nothing to parse. */
function isKeepalive(msg: Buffer): boolean {
  for (const b of msg) if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  return true;
}

/** A UDP listener; sends leave from the listening socket so replies reach it (RFC 3581 §4). */
export class UdpTransport implements TransportEndpoint {
  listening: ListeningTransport | undefined;
  private readonly socket: dgram.Socket;

  constructor(
    private readonly ctx: EndpointContext,
    readonly spec: ListenSpec,
  ) {
    const family = addressFamily(spec.bindAddress) === 6 ? 'udp6' : 'udp4';
    // ipv6Only keeps families apart so a `[::]` and a `0.0.0.0` listener can share a port.
    this.socket = dgram.createSocket({ type: family, ipv6Only: family === 'udp6' });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket.on('error', (err) => ctx.log.warn({ err, protocol: 'udp' }, 'udp socket error'));
  }

  start(): Promise<ListeningTransport> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.spec.bindAddress, port: this.spec.port }, () => {
        this.socket.off('error', onError);
        this.tuneBuffers();
        const addr = this.socket.address();
        this.listening = describeListener(this.spec, addr);
        resolve(this.listening);
      });
    });
  }

  send(data: Buffer, dest: Destination): Promise<Flow> {
    const address = normalizeAddress(dest.address);
    // RFC 4475 §3.3.1 "bcast": a Via naming a broadcast address must never make us send there.
    if (isBroadcastAddress(address)) {
      return Promise.reject(new Error(`refusing to send to broadcast address ${address}`));
    }
    if (isUnspecifiedAddress(address) || dest.port <= 0 || dest.port > 65535) {
      return Promise.reject(new Error(`invalid udp destination ${address}:${dest.port}`));
    }
    if (!this.listening) return Promise.reject(new Error('udp transport not started'));
    const flow: Flow = { protocol: 'udp', local: this.listening.local, remote: { address, port: dest.port } };
    return new Promise((resolve, reject) => {
      this.socket.send(data, dest.port, address, (err) => (err ? reject(err) : resolve(flow)));
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.listening) {
        resolve();
        return;
      }
      this.listening = undefined;
      this.socket.close(() => resolve());
    });
  }

  private tuneBuffers(): void {
    try {
      this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      this.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch (err) {
      // The kernel may cap buffers (net.core.rmem_max); smaller buffers still work.
      this.ctx.log.debug?.({ err }, 'could not enlarge udp socket buffers');
    }
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.listening || msg.length === 0 || isKeepalive(msg)) return;
    const flow: Flow = {
      protocol: 'udp',
      local: this.listening.local,
      remote: { address: normalizeAddress(rinfo.address), port: rinfo.port },
    };
    if (msg.length > this.ctx.limits.maxMessageBytes) {
      // Still reported, with the bytes, so the engine can answer 513 (RFC 3261 §21.5.14).
      this.ctx.sink.framingError({ flow, error: 'message-too-large', data: msg });
      return;
    }
    this.ctx.sink.message({ data: msg, flow });
  }
}
