import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createApi, type ApiDeps } from './app.js';

/** A logger whose JSON lines are kept in `lines`, so tests can assert what was (not) logged. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** The API under test with a fake clock and captured logs; `overrides` replace any dependency. */
export function testApi(overrides: Partial<ApiDeps> = {}) {
  const clock = new FakeClock();
  const { logger, lines } = captureLogger();
  const app = createApi({ logger, version: '9.9.9-test', clock, rateLimit: false, ...overrides });
  return { app, clock, lines };
}

/** Any JSON body, loosely typed for assertions (`Response.json()` is `unknown` under strict lib types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function body(res: Response): Promise<any> {
  return res.json();
}
