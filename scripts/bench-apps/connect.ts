/**
 * Shared start-up of the bench apps: flags, routes, connect to the engine's admin port, and a
 * `ready` message to the parent (IPC when there is one, else a line on stdout).
 */
import { parseArgs } from 'node:util';
import type Srf from 'drachtio-srf';

export type Handler = (req: Srf.SrfRequest, res: Srf.SrfResponse) => void;

export async function connectApp(srf: Srf, routes: Record<string, Handler>, name: string, onExit?: () => void): Promise<void> {
  const { values } = parseArgs({
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '9022' }, secret: { type: 'string', default: 'cymru' } },
  });
  // srf adds one method per SIP verb at run time (sip-methods); its type declarations lack them.
  const verbs = srf as unknown as Record<string, (h: Handler) => void>;
  for (const [verb, handler] of Object.entries(routes)) verbs[verb]!.call(srf, handler);
  srf.on('error', (err: Error) => console.error(`${name}: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    srf.once('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: values.host, port: Number(values.port), secret: values.secret });
  });
  if (process.send) process.send({ type: 'ready', app: name });
  else console.log(`${name} ready`);
  const exit = (): void => {
    onExit?.();
    process.exit(0);
  };
  process.once('SIGINT', exit);
  process.once('SIGTERM', exit);
}
