import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { SwitchboardError } from '../shared/errors.js';
import type { Cidr } from './cidr.js';
import { envSchema, secretKeys, type LogLevel, type ParsedEnv } from './env-schema.js';

/**
 * Where the app finds its SIP engine. `embedded`: main starts the engine in a child process,
 * admin socket on loopback only. `external`: a drachtio-server (or another engine) someone else runs.
 */
export type EngineTarget =
  | { readonly mode: 'embedded'; readonly adminHost: '127.0.0.1'; readonly adminPort: number; readonly secret: string }
  | { readonly mode: 'external'; readonly host: string; readonly port: number; readonly secret: string };

/**
 * Where call media goes. `direct`: SDP untouched, phones talk to each other. `external`: an
 * rtpengine someone else runs (RTPENGINE_NG); it must answer at start. `local`: main starts and
 * supervises rtpengine from `binary`; when `required` is false and the binary is not installed,
 * media falls back to direct with a warning.
 */
export type MediaTarget =
  | { readonly mode: 'direct' }
  | { readonly mode: 'external'; readonly host: string; readonly port: number }
  | {
      readonly mode: 'local';
      readonly binary: string;
      readonly required: boolean;
      readonly portMin: number;
      readonly portMax: number;
      /** The RTP address; undefined → main picks one (see SWITCHBOARD_RTP_ADDRESS). */
      readonly address: string | undefined;
    };

/** Everything Switchboard is configured with, parsed once at boot and frozen. */
export interface AppConfig {
  readonly sip: {
    /** Bind address of the embedded engine's UDP and TCP listeners. */
    readonly address: string;
    readonly port: number;
  };
  readonly engine: EngineTarget;
  readonly media: MediaTarget;
  /** Registrar options: digest challenges offered (in order) and the OPTIONS qualify period (0 = off). */
  readonly registrar: { readonly digestAlgorithms: ReadonlyArray<'SHA-256' | 'MD5'>; readonly qualifySeconds: number };
  readonly calls: { readonly ringTimeoutSeconds: number };
  /** The dialplan file (absolute); undefined → the package's dialplan/default.json. */
  readonly dialplan: { readonly path: string | undefined };
  /** Ranges webhook URLs may reach although the SSRF guard refuses them by default. */
  readonly webhooks: { readonly allowlist: readonly Cidr[]; readonly breakerPauseSeconds: number };
  /** Outbox retention: delivered events older than this are removed; ended deliveries leave the delivery log after `deliveryLogRetentionHours`. */
  readonly events: { readonly retentionHours: number; readonly deliveryLogRetentionHours: number };
  readonly logLevel: LogLevel;
  /** Absolute path of the data directory (resolved against the working directory). */
  readonly dataDir: string;
  /** Where the HTTP API listens; port 0 picks a free one. */
  readonly http: { readonly address: string; readonly port: number };
  /**
   * Secrets from the environment. Never logged: the logger redacts nothing it is not told about,
   * so these are kept apart and only main.ts reads them.
   */
  readonly secrets: {
    /** First admin API key on first start, for automation that must know it in advance. */
    readonly bootstrapApiKey: string | undefined;
    /** 64-hex AES-256 key for secrets at rest; undefined → the data directory's key file. */
    readonly secretKeyHex: string | undefined;
  };
}

/** Boot-time configuration failure; `problems` has one line per bad key. */
export class ConfigError extends SwitchboardError {
  constructor(readonly problems: readonly string[]) {
    super('config.invalid', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Base for a relative SWITCHBOARD_DATA_DIR; the process working directory by default. */
  cwd?: string;
  /** Source of the per-start engine secret; injectable so tests are deterministic. */
  generateSecret?: () => string;
}

/** Prefix of our own variables: an unknown one is almost always a typo that would silently fall back to a default. */
const ownPrefix = 'SWITCHBOARD_';

/**
 * Parse the environment into a frozen {@link AppConfig}. Every problem is collected before
 * failing, so a broken deployment is fixed in one round instead of one key at a time.
 *
 * @throws ConfigError listing every bad key (secret values are never echoed).
 */
export function loadConfig(env: NodeJS.ProcessEnv, opts: LoadConfigOptions = {}): AppConfig {
  const problems: string[] = [];
  const known = new Set(Object.keys(envSchema.shape));
  for (const key of Object.keys(env).sort()) {
    if (key.startsWith(ownPrefix) && !known.has(key)) problems.push(`${key}: unknown variable (known: ${[...known].filter((k) => k.startsWith(ownPrefix)).join(', ')})`);
  }

  // Rules between keys are checked on the raw values, so they are listed along with the schema's.
  const isSet = (key: string): boolean => (env[key] ?? '').trim() !== '';
  const external = isSet('DRACHTIO_HOST');
  if (external && !isSet('DRACHTIO_SECRET')) {
    // An external server was set up with its own secret; guessing drachtio's sample "cymru"
    // would fail with a confusing auth error, or worse, work against an unprotected server.
    problems.push('DRACHTIO_SECRET: required when DRACHTIO_HOST is set (the secret of that drachtio-server)');
  }
  if (!external && isSet('DRACHTIO_PORT')) {
    problems.push('DRACHTIO_PORT: only used with DRACHTIO_HOST (set SWITCHBOARD_ENGINE_ADMIN_PORT for the embedded engine)');
  }

  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '(environment)');
      const shown = secretKeys.has(key) ? '' : ` (got ${JSON.stringify(env[key])})`;
      problems.push(`${key}: ${issue.message}${shown}`);
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;

  let engine: EngineTarget;
  if (e.DRACHTIO_HOST !== undefined) {
    engine = { mode: 'external', host: e.DRACHTIO_HOST, port: e.DRACHTIO_PORT ?? 9022, secret: e.DRACHTIO_SECRET ?? '' };
  } else {
    // The embedded engine's admin port listens on loopback only, but any local user could still
    // connect to it: a fresh random secret per start keeps them out without anything to configure.
    const secret = e.DRACHTIO_SECRET ?? (opts.generateSecret ?? defaultSecret)();
    engine = { mode: 'embedded', adminHost: '127.0.0.1', adminPort: e.SWITCHBOARD_ENGINE_ADMIN_PORT, secret };
    if (e.SWITCHBOARD_ENGINE_ADMIN_PORT === e.SWITCHBOARD_SIP_PORT) {
      problems.push(`SWITCHBOARD_ENGINE_ADMIN_PORT: ${e.SWITCHBOARD_ENGINE_ADMIN_PORT} is also SWITCHBOARD_SIP_PORT (SIP over TCP and the engine admin socket both need it)`);
    }
  }
  const media = mediaTarget(e, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const config: AppConfig = {
    sip: { address: e.SWITCHBOARD_SIP_ADDRESS, port: e.SWITCHBOARD_SIP_PORT },
    engine,
    media,
    registrar: { digestAlgorithms: e.SWITCHBOARD_SIP_DIGEST_ALGORITHMS, qualifySeconds: e.SWITCHBOARD_SIP_QUALIFY_SECONDS },
    calls: { ringTimeoutSeconds: e.SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS },
    dialplan: { path: e.SWITCHBOARD_DIALPLAN === undefined ? undefined : resolve(opts.cwd ?? process.cwd(), e.SWITCHBOARD_DIALPLAN) },
    webhooks: { allowlist: e.SWITCHBOARD_WEBHOOK_ALLOWLIST, breakerPauseSeconds: e.SWITCHBOARD_WEBHOOK_BREAKER_PAUSE_SECONDS },
    events: { retentionHours: e.SWITCHBOARD_EVENT_RETENTION_HOURS, deliveryLogRetentionHours: e.SWITCHBOARD_WEBHOOK_LOG_RETENTION_HOURS },
    logLevel: e.SWITCHBOARD_LOG_LEVEL,
    dataDir: resolve(opts.cwd ?? process.cwd(), e.SWITCHBOARD_DATA_DIR),
    http: { address: e.SWITCHBOARD_HTTP_ADDRESS, port: e.SWITCHBOARD_HTTP_PORT },
    secrets: { bootstrapApiKey: e.SWITCHBOARD_BOOTSTRAP_API_KEY, secretKeyHex: e.SWITCHBOARD_SECRET_KEY?.toLowerCase() },
  };
  return deepFreeze(config);
}

function mediaTarget(e: ParsedEnv, problems: string[]): MediaTarget {
  if (e.SWITCHBOARD_MEDIA === 'direct') {
    if (e.RTPENGINE_NG !== undefined) problems.push('RTPENGINE_NG: set, but SWITCHBOARD_MEDIA=direct turns rtpengine off (unset one of them)');
    return { mode: 'direct' };
  }
  if (e.RTPENGINE_NG !== undefined) return { mode: 'external', ...e.RTPENGINE_NG };
  // rtpengine allocates RTP and RTCP as pairs, two sides per call: fewer than 4 ports is no call.
  if (e.SWITCHBOARD_RTP_PORT_MAX - e.SWITCHBOARD_RTP_PORT_MIN < 3) {
    problems.push(`SWITCHBOARD_RTP_PORT_MAX: must be at least SWITCHBOARD_RTP_PORT_MIN + 3 (got ${e.SWITCHBOARD_RTP_PORT_MIN}-${e.SWITCHBOARD_RTP_PORT_MAX})`);
  }
  return {
    mode: 'local',
    binary: e.SWITCHBOARD_RTPENGINE_BINARY ?? 'rtpengine',
    // An explicit binary that is missing is a mistake to report, not a reason to go direct.
    required: e.SWITCHBOARD_MEDIA === 'rtpengine' || e.SWITCHBOARD_RTPENGINE_BINARY !== undefined,
    portMin: e.SWITCHBOARD_RTP_PORT_MIN,
    portMax: e.SWITCHBOARD_RTP_PORT_MAX,
    address: e.SWITCHBOARD_RTP_ADDRESS,
  };
}

/** The `--contact` URI the embedded engine listens on: UDP and TCP on the configured address and port. */
export function sipContactUri(sip: AppConfig['sip']): string {
  const host = isIP(sip.address) === 6 ? `[${sip.address}]` : sip.address;
  return `sip:${host}:${sip.port};transport=udp,tcp`;
}

function defaultSecret(): string {
  // base64url never contains "|", which the drachtio wire protocol uses as its separator.
  return randomBytes(24).toString('base64url');
}

function deepFreeze<T extends object>(obj: T): T {
  for (const value of Object.values(obj)) {
    if (value !== null && typeof value === 'object') deepFreeze(value as object);
  }
  return Object.freeze(obj);
}
