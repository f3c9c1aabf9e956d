import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * The root logger: JSON lines on stdout (pino), with credentials redacted wherever they appear in
 * logged objects. Deep modules get a child logger passed in; they never import this one.
 */
export function createLogger(opts: { level?: LevelWithSilent; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'switchboard',
    level: opts.level ?? 'info',
    redact: {
      paths: [
        'password',
        '*.password',
        'secret',
        '*.secret',
        'ha1',
        '*.ha1',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'headers["proxy-authorization"]',
        'apiKey',
        '*.apiKey',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
