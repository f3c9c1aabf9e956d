import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Db } from '../../store/index.js';
import type { ConnectRequest, EventStream } from './event-stream.js';
import { authenticateStream, presentedStreamKey } from './stream-auth.js';
import { filterProblem, toCursor } from './stream-messages.js';

export const STREAM_PATH = '/ws';

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers an upgrade with a plain HTTP error (the socket never becomes a WebSocket). */
function refuse(socket: Duplex, status: number, message = ''): void {
  const body = message ? JSON.stringify({ error: { code: STATUS_TEXT[status]?.toUpperCase().replace(/ /g, '_'), message } }) : '';
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The first subscribe the connect URL asks for: `events` (comma-separated), `since`, `names`. */
export function connectRequest(url: URL): ConnectRequest | string {
  const names = url.searchParams.get('names') ?? undefined;
  if (names !== undefined && names !== 'crm' && names !== 'native') return 'names must be crm or native';
  const eventsParam = url.searchParams.get('events');
  const events = eventsParam ? eventsParam.split(',').map((p) => p.trim()).filter(Boolean) : undefined;
  const problem = events && filterProblem(events);
  if (problem) return problem;
  const since = url.searchParams.get('since') || undefined;
  return { type: 'subscribe', ...(events && { events }), ...(since !== undefined && { since: toCursor(since) }), ...(names && { names }) };
}

/**
 * Serves `/ws` on the API's HTTP server: the key is checked before the upgrade completes, so a bad
 * key gets a plain 401 (403 without the read scope) and never a WebSocket. Other upgrade paths get 404.
 */
export function attachEventStream(server: Server, stream: EventStream, db: Db): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== STREAM_PATH) return refuse(socket, 404);
      const auth = await authenticateStream(db, presentedStreamKey(req, url));
      if (!auth.ok) return refuse(socket, auth.status, auth.status === 401 ? 'missing, unknown, expired or revoked API key' : 'this API key lacks the scope voip:read');
      const connect = connectRequest(url);
      if (typeof connect === 'string') return refuse(socket, 400, connect);
      stream.wss.handleUpgrade(req, socket, head, (ws) => stream.accept(ws, auth.principal, connect));
    })().catch(() => refuse(socket, 503));
  });
}
