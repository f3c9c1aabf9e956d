import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCidrList, type Cidr } from './cidr.js';

/** Log levels pino understands; `silent` turns logging off (tests). */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of {@link logLevels}. */
export type LogLevel = (typeof logLevels)[number];

// An empty variable (`FOO=` in a compose file or an unset shell expansion) means "not set", so
// that it takes the default instead of failing as an invalid number.
const unsetIfEmpty = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, value: z.util.NoUndefined<z.output<T>>) =>
  z.preprocess(unsetIfEmpty, schema.default(value));

const port = (min: 0 | 1) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, `must be a port number (${min}-65535)`)
    .transform(Number)
    .refine((n) => n >= min && n <= 65535, `must be a port number (${min}-65535)`);

const ipAddress = z
  .string()
  .trim()
  .refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address (0.0.0.0 for every IPv4 interface)');

/**
 * The environment variables Switchboard reads, as zod sees them: every value is the raw string
 * (or absent) and the schema turns it into a typed value with its default. Cross-key rules (the
 * external drachtio-server needs its secret, ports must not clash) live in `load-config.ts`.
 */
export const envSchema = z.object({
  SWITCHBOARD_SIP_PORT: withDefault(port(1), 5060),
  SWITCHBOARD_SIP_ADDRESS: withDefault(ipAddress, '0.0.0.0'),
  // 0 lets the OS pick a free port; the engine reports the one it bound.
  SWITCHBOARD_ENGINE_ADMIN_PORT: withDefault(port(0), 9022),
  DRACHTIO_HOST: optional(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or an IP address'),
  ),
  DRACHTIO_PORT: optional(port(1)),
  // drachtio's wire protocol separates tokens with "|", so a secret containing one cannot work.
  DRACHTIO_SECRET: optional(z.string().regex(/^[^|\r\n]+$/, 'must not contain "|" or line breaks')),
  SWITCHBOARD_LOG_LEVEL: withDefault(z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }), 'info'),
  SWITCHBOARD_DATA_DIR: withDefault(z.string(), './data'),
  // 0 lets the OS pick a free port (tests); main logs the one it bound.
  SWITCHBOARD_HTTP_PORT: withDefault(port(0), 8080),
  SWITCHBOARD_HTTP_ADDRESS: withDefault(ipAddress, '0.0.0.0'),
  // The same shape generateApiKey produces, so a typo fails at boot instead of at the first request.
  SWITCHBOARD_BOOTSTRAP_API_KEY: optional(
    z
      .string()
      .trim()
      .regex(/^sk_live_[0-9a-f]{48}$/, 'must be sk_live_ followed by 48 lowercase hex characters'),
  ),
  // Digest challenges offered, in order. SHA-256 first is RFC 8760's advice; phones (and SIPp 3.6)
  // that only read the first challenge need MD5 first.
  SWITCHBOARD_SIP_DIGEST_ALGORITHMS: withDefault(
    z
      .string()
      .transform((s) => s.split(',').map((a) => a.trim().toUpperCase()))
      .refine((list) => list.length > 0 && list.length <= 2 && new Set(list).size === list.length && list.every((a) => a === 'SHA-256' || a === 'MD5'), 'must be SHA-256, MD5 or both, comma separated')
      .transform((list) => list as Array<'SHA-256' | 'MD5'>),
    ['SHA-256', 'MD5'],
  ),
  // Seconds between OPTIONS qualify rounds of registered phones; 0 turns qualify off.
  // How long an unanswered call rings before it ends as no answer (480 to the caller).
  SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS: withDefault(z.string().trim().regex(/^\d{1,4}$/, 'must be a number of seconds').transform(Number).refine((n) => n >= 1, 'must be at least 1'), 45),
  // A dialplan file (JSON) to use instead of dialplan/default.json; relative to the working directory.
  SWITCHBOARD_DIALPLAN: optional(z.string().trim()),
  SWITCHBOARD_SIP_QUALIFY_SECONDS: withDefault(z.string().trim().regex(/^\d{1,5}$/, 'must be a number of seconds (0 = off)').transform(Number), 30),
  // Media: `auto` anchors through rtpengine when one is there (RTPENGINE_NG, or the binary to start
  // one), else direct; `direct` never anchors; `rtpengine` makes a missing rtpengine a start error.
  SWITCHBOARD_MEDIA: withDefault(z.enum(['auto', 'direct', 'rtpengine'], { error: 'must be auto, direct or rtpengine' }), 'auto'),
  // An rtpengine someone else runs: its ng control socket. IPv4 or a name: the ng client speaks udp4.
  RTPENGINE_NG: optional(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port of rtpengine\'s ng socket (IPv4 address or host name), e.g. 127.0.0.1:2223')
      .transform((s) => ({ host: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) }))
      .refine((t) => t.port >= 1 && t.port <= 65535, 'port must be 1-65535'),
  ),
  // The rtpengine to start when RTPENGINE_NG is not set; a bare name is looked up on PATH.
  SWITCHBOARD_RTPENGINE_BINARY: optional(z.string().trim()),
  // RTP ports of the rtpengine Switchboard starts. 4 per anchored call (RTP + RTCP, both sides):
  // the default 10,000 carry 2,500 calls, and stay clear of Debian's rtpengine service (30000-40000).
  SWITCHBOARD_RTP_PORT_MIN: withDefault(port(1), 40000),
  SWITCHBOARD_RTP_PORT_MAX: withDefault(port(1), 49999),
  // The address rtpengine binds RTP to and writes into SDP; phones must reach it. Default: the SIP
  // address, or the host's first non-loopback IPv4 address when SIP listens on every interface.
  SWITCHBOARD_RTP_ADDRESS: optional(z.string().trim().refine((s) => isIP(s) === 4, 'must be an IPv4 address the phones can reach')),
  // Address ranges webhooks may reach although the SSRF guard refuses them by default (private,
  // loopback…): comma-separated CIDRs, e.g. `10.20.0.0/16,127.0.0.1`. Empty: none.
  SWITCHBOARD_WEBHOOK_ALLOWLIST: withDefault(
    z.string().transform((s, ctx): Cidr[] => {
      const { cidrs, errors } = parseCidrList(s);
      for (const message of errors) ctx.addIssue({ code: 'custom', message });
      return cidrs;
    }),
    [],
  ),
  // How long a webhook endpoint is paused once its circuit breaker opens (10 consecutive failures), before one probe.
  SWITCHBOARD_WEBHOOK_BREAKER_PAUSE_SECONDS: withDefault(z.string().trim().regex(/^\d{1,6}$/, 'must be a number of seconds').transform(Number).refine((n) => n >= 1, 'must be at least 1'), 300),
  // How long delivered events stay in the outbox (the WebSocket replay window); events still owed to an endpoint stay longer.
  SWITCHBOARD_EVENT_RETENTION_HOURS: withDefault(z.string().trim().regex(/^\d{1,5}$/, 'must be a number of hours').transform(Number).refine((n) => n >= 1, 'must be at least 1'), 24),
  // How long ended webhook deliveries stay in the delivery log (7 days); pending ones stay until they end.
  SWITCHBOARD_WEBHOOK_LOG_RETENTION_HOURS: withDefault(z.string().trim().regex(/^\d{1,6}$/, 'must be a number of hours').transform(Number).refine((n) => n >= 1, 'must be at least 1'), 168),
  // AES-256 key for secrets at rest; absent → a key file in the data directory.
  SWITCHBOARD_SECRET_KEY: optional(
    z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (a 256-bit key)'),
  ),
});

/** The environment after {@link envSchema}: typed values with defaults applied. */
export type ParsedEnv = z.output<typeof envSchema>;

/** Variables whose value must never appear in an error message or a log line. */
export const secretKeys: ReadonlySet<string> = new Set(['DRACHTIO_SECRET', 'SWITCHBOARD_BOOTSTRAP_API_KEY', 'SWITCHBOARD_SECRET_KEY']);
