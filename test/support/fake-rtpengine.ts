import bencode from 'bencode';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** A decoded ng request: the bencode dictionary, `command` included. */
export type NgRequest = Record<string, unknown> & { command: string };

/** What the fake answers: a dictionary to send back, or `undefined` to stay silent (a dead rtpengine). */
export type NgHandler = (req: NgRequest) => Record<string, unknown> | undefined;

/**
 * A stand-in for rtpengine's ng control socket (`<cookie> <bencode dict>` over UDP): it records
 * every request and answers with what the handler returns, so tests see the exact dictionaries the
 * anchor sends and can script errors and silence.
 */
export class FakeRtpengine {
  readonly requests: NgRequest[] = [];
  handler: NgHandler = (req) => (req.command === 'ping' ? { result: 'pong' } : { result: 'ok' });

  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg, from) => {
      const space = msg.indexOf(0x20);
      const cookie = msg.subarray(0, space).toString();
      const req = bencode.decode(msg.subarray(space + 1), 'utf8') as NgRequest;
      this.requests.push(req);
      const reply = this.handler(req);
      if (reply === undefined) return;
      socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode.encode(reply)]), from.port, from.address);
    });
  }

  static async start(): Promise<FakeRtpengine> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new FakeRtpengine(socket);
  }

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  /** The requests of one command, in order. */
  sent(command: string): NgRequest[] {
    return this.requests.filter((r) => r.command === command);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
