/**
 * Every open stream connection (tcp, tls, ws, wss), inbound and outbound, indexed by id and by
 * remote address so that a request or response to a peer reuses the connection already open to it
 * (RFC 3261 §18.2.2, RFC 5923 §3, RFC 5626 §5) and so the connection caps can be enforced on accept.
 */
import type { HostPort, TransportProtocol } from '../message/types.js';
import { normalizeAddress } from './address.js';
import type { Flow, TransportLimits } from './types.js';

export type StreamProtocol = Exclude<TransportProtocol, 'udp'>;

/** One live connection, whatever its socket type. */
export interface StreamConnection {
  readonly id: string;
  readonly protocol: StreamProtocol;
  /** Whether the peer opened it (counts against the accept caps). */
  readonly inbound: boolean;
  /** The flow to report for messages on this connection. */
  readonly flow: Flow;
  /** Write one whole message; resolves once handed to the kernel. */
  write(data: Buffer): Promise<void>;
  /** Flush what is queued, then close (used after a framing error so a 400 can still go out). */
  close(): void;
  /** Close at once (timeouts, shutdown). */
  destroy(): void;
}

function remoteKey(protocol: TransportProtocol, remote: HostPort): string {
  return `${protocol}|${normalizeAddress(remote.address)}|${remote.port}`;
}

/** The connection registry behind reuse and the accept caps ({@link TransportLimits}). */
export class ConnectionTable {
  private readonly byId = new Map<string, StreamConnection>();
  /** remote key → ids, oldest first. */
  private readonly byRemote = new Map<string, string[]>();
  private readonly perIp = new Map<string, number>();
  private counter = 0;

  constructor(private readonly limits: Pick<TransportLimits, 'maxConnections' | 'maxConnectionsPerIp'>) {}

  /** A fresh id such as `tcp-17`; unique for the life of the table. */
  nextId(protocol: StreamProtocol): string {
    this.counter += 1;
    return `${protocol}-${this.counter}`;
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Why a new inbound connection from `address` must be refused, or undefined to accept it.
   * Both caps count every open connection (inbound and outbound) since both hold the same resources.
   */
  refusal(address: string): string | undefined {
    if (this.byId.size >= this.limits.maxConnections) {
      return `connection limit ${this.limits.maxConnections} reached`;
    }
    const fromIp = this.perIp.get(normalizeAddress(address)) ?? 0;
    if (fromIp >= this.limits.maxConnectionsPerIp) {
      return `per-IP connection limit ${this.limits.maxConnectionsPerIp} reached`;
    }
    return undefined;
  }

  add(conn: StreamConnection): void {
    this.byId.set(conn.id, conn);
    const key = remoteKey(conn.protocol, conn.flow.remote);
    const ids = this.byRemote.get(key);
    if (ids) ids.push(conn.id);
    else this.byRemote.set(key, [conn.id]);
    const ip = normalizeAddress(conn.flow.remote.address);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  /** Forget a connection; returns whether it was known (so "closed" is reported once). */
  delete(id: string): boolean {
    const conn = this.byId.get(id);
    if (!conn) return false;
    this.byId.delete(id);
    const key = remoteKey(conn.protocol, conn.flow.remote);
    const ids = this.byRemote.get(key)?.filter((x) => x !== id) ?? [];
    if (ids.length > 0) this.byRemote.set(key, ids);
    else this.byRemote.delete(key);
    const ip = normalizeAddress(conn.flow.remote.address);
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
    return true;
  }

  get(id: string): StreamConnection | undefined {
    return this.byId.get(id);
  }

  /** The newest live connection to that remote transport address, whoever opened it. */
  findByRemote(protocol: StreamProtocol, address: string, port: number): StreamConnection | undefined {
    const ids = this.byRemote.get(remoteKey(protocol, { address, port }));
    const id = ids?.[ids.length - 1];
    return id === undefined ? undefined : this.byId.get(id);
  }

  all(): StreamConnection[] {
    return [...this.byId.values()];
  }
}
