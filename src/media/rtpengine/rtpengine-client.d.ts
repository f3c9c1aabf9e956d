// rtpengine-client 0.4 ships no types; this is the part of its UDP client that ng-client.ts uses.
declare module 'rtpengine-client' {
  import type { Socket } from 'node:dgram';
  import type { EventEmitter } from 'node:events';

  /** A bencode dictionary as the client encodes (request) or decodes (reply, strings as utf8). */
  export type NgDictionary = Record<string, unknown>;
  export interface NgDestination {
    port: number;
    host: string;
  }
  type NgMethod = (dest: NgDestination, params?: NgDictionary) => Promise<NgDictionary>;

  export class Client extends EventEmitter {
    constructor(opts: { localPort?: number; localAddress?: string; timeout?: number; rejectOnError?: boolean });
    ping: NgMethod;
    offer: NgMethod;
    answer: NgMethod;
    delete: NgMethod;
    query: NgMethod;
    list: NgMethod;
    close(): void;
    /** The UDP socket the client binds in its constructor. */
    readonly socket: Socket;
  }

  const rtpengine: { Client: typeof Client };
  export default rtpengine;
}
