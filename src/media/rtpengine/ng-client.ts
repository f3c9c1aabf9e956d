import rtpengine, { type NgDictionary } from 'rtpengine-client';
import { MediaError } from '../media-error.js';

/** The ng commands this layer sends; the client library names them in camelCase. */
export type NgCommand = 'ping' | 'offer' | 'answer' | 'delete' | 'query' | 'list';

/** One rtpengine's ng control socket, with failures turned into {@link MediaError}. */
export interface NgClient {
  /**
   * Send a command and return the reply dictionary when `result` is not `error`.
   * @throws MediaError `media.unavailable` on timeout or socket failure, `media.rejected` when
   *   rtpengine answered `result: error` (its `error-reason` is kept in `reason`).
   */
  send(command: NgCommand, params?: NgDictionary): Promise<NgDictionary>;
  close(): void;
}

export interface NgClientOptions {
  host: string;
  port: number;
  /** How long to wait for a reply. rtpengine answers in well under a millisecond on a LAN; 2 s is a dead one. */
  timeoutMs?: number;
  /** Socket-level trouble the library reports outside any command (e.g. a reply that came after its timeout). */
  onStrayError?: (err: Error) => void;
}

const NG_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

/** Open a UDP ng client (rtpengine-client's `Client`, which encodes bencode and matches cookies). */
export function createNgClient(opts: NgClientOptions): NgClient {
  const timeoutMs = opts.timeoutMs ?? 2000;
  // Bound to every address on a free port: replies come from wherever rtpengine listens.
  const client = new rtpengine.Client({ timeout: timeoutMs });
  // Without a listener an 'error' event would throw and take the process down; late replies
  // after a timeout are the usual case, and the command that waited has already failed.
  client.on('error', (err: Error) => opts.onStrayError?.(err));
  // Replies to hundreds of calls a second arrive in bursts while the event loop is busy with a
  // store commit; the default receive buffer (~200 KB) overflows, and a dropped reply is a call
  // failed with 503 or a release lost. The kernel caps the request at net.core.rmem_max.
  client.socket.once('listening', () => {
    try {
      client.socket.setRecvBufferSize(NG_RECV_BUFFER_BYTES);
    } catch {
      // the default buffer still works
    }
  });
  const dest = { host: opts.host, port: opts.port };
  const where = `${opts.host}:${opts.port}`;
  let closed = false;

  return {
    async send(command, params = {}) {
      if (closed) throw new MediaError('media.unavailable', `rtpengine ${where}: client closed`, command);
      let reply: NgDictionary;
      try {
        reply = await client[command](dest, params);
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new MediaError('media.unavailable', `rtpengine ${where} did not answer "${command}" (${detail})`, command, undefined, { cause: err });
      }
      if (reply.result === 'error') {
        const reason = typeof reply['error-reason'] === 'string' ? reply['error-reason'] : 'no reason given';
        throw new MediaError('media.rejected', `rtpengine ${where} refused "${command}": ${reason}`, command, reason);
      }
      return reply;
    },
    close() {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}
