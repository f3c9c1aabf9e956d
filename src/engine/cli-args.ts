import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import type { EngineConfig } from './server.js';
import { parseContactSpecs } from './transport/contact-spec.js';
import type { ListenSpec } from './transport/types.js';

/** Parsed command line of the standalone engine. */
export interface EngineCliOptions {
  config: EngineConfig;
  logLevel: LevelWithSilent;
  showVersion: boolean;
  /** The text to print for --help (the caller prints it and exits 0). */
  help?: string;
}

export const ENGINE_VERSION = 'v1.0.0';

const usage = `usage: switchboard-engine [options]
  -c, --contact URI            SIP transport, repeatable (e.g. "sip:127.0.0.1:5060;transport=udp,tcp")
      --external-ip IP         advertised address for the preceding --contact
      --local-net CIDR         local network for the preceding --contact
  -p, --port N                 admin (drachtio protocol) TCP port, default 9022
      --tls-port N             admin TLS port (needs --key-file and --cert-file)
      --address ADDR           admin bind address, default 0.0.0.0
      --secret S               shared secret apps authenticate with (default cymru)
      --key-file F, --cert-file F   TLS key and certificate (admin TLS and sip tls/wss)
      --dns-name NAME          extra name of this host for the loop check, repeatable
      --always-send-180        send 180 Ringing along with the automatic 100 Trying
      --user-agent-options-auto-respond UA   answer OPTIONS from this User-Agent with 200
      --no-cdrs                do not send cdr:* events to apps
      --default-refresher none|uac|uas   session timer refresher when the UAC offered none
      --t1 MS, --t2 MS, --t4 MS      RFC 3261 timers
      --http-handler URL       route new requests by this handler instead of the apps' routes:
                               http(s)://… is asked per request, tcp://host:port or tls://host:port
                               connects out to an srf.listen app
      --http-method GET|POST   how the http(s) handler is called (default GET)
  -l, --loglevel LEVEL         trace|debug|info|warn|error|fatal|silent
  -v, --version                print the version
Environment: DRACHTIO_SECRET, DRACHTIO_ADMIN_TCP_PORT, DRACHTIO_ADMIN_ADDRESS, DRACHTIO_CONTACT,
  DRACHTIO_HTTP_HANDLER_URI.`;

/** Parse drachtio-server style flags (drachtio-protocol §6). Throws an Error listing what is wrong. */
export function parseEngineArgs(argv: string[], env: NodeJS.ProcessEnv): EngineCliOptions {
  const { values, tokens } = parseArgs({
    args: argv,
    tokens: true,
    strict: true,
    options: {
      contact: { type: 'string', short: 'c', multiple: true },
      'external-ip': { type: 'string', multiple: true },
      'local-net': { type: 'string', multiple: true },
      port: { type: 'string', short: 'p' },
      'tls-port': { type: 'string' },
      address: { type: 'string' },
      secret: { type: 'string' },
      'key-file': { type: 'string' },
      'cert-file': { type: 'string' },
      'dns-name': { type: 'string', multiple: true },
      'always-send-180': { type: 'boolean' },
      'user-agent-options-auto-respond': { type: 'string' },
      'no-cdrs': { type: 'boolean' },
      'default-refresher': { type: 'string' },
      t1: { type: 'string' },
      t2: { type: 'string' },
      t4: { type: 'string' },
      'http-handler': { type: 'string' },
      'http-method': { type: 'string' },
      loglevel: { type: 'string', short: 'l' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) return { config: { listen: [], admin: { host: '', port: 0, secret: '' } }, logLevel: 'info', showVersion: false, help: usage };
  const errors: string[] = [];
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535 * 1000) errors.push(`--${name} must be a whole number, got "${raw}"`);
    return n;
  };

  // --external-ip / --local-net apply to the --contact they follow, as in drachtio-server.
  const contacts: Array<{ uri: string; externalIp?: string; localNet?: string }> = [];
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (t.name === 'contact' && t.value) contacts.push({ uri: t.value });
    else if (t.name === 'external-ip' && t.value && contacts.length) contacts[contacts.length - 1]!.externalIp = t.value;
    else if (t.name === 'local-net' && t.value && contacts.length) contacts[contacts.length - 1]!.localNet = t.value;
  }
  if (contacts.length === 0) contacts.push({ uri: env.DRACHTIO_CONTACT ?? 'sip:*;transport=udp,tcp' });
  const listen: ListenSpec[] = [];
  const tls = values['key-file'] && values['cert-file'] ? { key: readFileSync(values['key-file']), cert: readFileSync(values['cert-file']) } : undefined;
  for (const c of contacts) {
    try {
      for (const spec of parseContactSpecs(c.uri, { ...(c.externalIp ? { externalIp: c.externalIp } : {}), ...(c.localNet ? { localNet: c.localNet } : {}) })) {
        if (spec.protocol === 'tls' || spec.protocol === 'wss') {
          if (!tls) errors.push(`--contact ${c.uri} needs --key-file and --cert-file`);
          else spec.tls = tls;
        }
        listen.push(spec);
      }
    } catch (err) {
      errors.push(`--contact ${c.uri}: ${(err as Error).message}`);
    }
  }
  const refresher = values['default-refresher'] ?? 'none';
  if (refresher !== 'none' && refresher !== 'uac' && refresher !== 'uas') errors.push(`--default-refresher must be none, uac or uas`);
  const level = (values.loglevel ?? 'info') as LevelWithSilent;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) errors.push(`--loglevel ${level} is not a level`);
  const tlsPort = values['tls-port'] !== undefined ? int('tls-port', values['tls-port'], 0) : undefined;
  if (tlsPort !== undefined && !tls) errors.push('--tls-port needs --key-file and --cert-file');

  const handlerUrl = values['http-handler'] ?? env.DRACHTIO_HTTP_HANDLER_URI;
  const handlerMethod = (values['http-method'] ?? 'GET').toUpperCase();
  if (handlerUrl !== undefined && !/^(https?:\/\/\S+|(tcp|tls):\/\/[^/?#\s]+:\d{1,5}\/?)$/i.test(handlerUrl)) {
    errors.push(`--http-handler must be http(s)://…, tcp://host:port or tls://host:port, got "${handlerUrl}"`);
  }
  if (handlerMethod !== 'GET' && handlerMethod !== 'POST') errors.push('--http-method must be GET or POST');

  const config: EngineConfig = {
    listen,
    admin: {
      host: values.address ?? env.DRACHTIO_ADMIN_ADDRESS ?? '0.0.0.0',
      port: int('port', values.port ?? env.DRACHTIO_ADMIN_TCP_PORT, 9022),
      secret: values.secret ?? env.DRACHTIO_SECRET ?? 'cymru',
      ...(tlsPort !== undefined ? { tlsPort } : {}),
      ...(tls ? { tls } : {}),
    },
    timers: {
      t1: int('t1', values.t1, 500),
      t2: int('t2', values.t2, 4000),
      t4: int('t4', values.t4, 5000),
    },
    core: {
      cdrs: !values['no-cdrs'],
      alwaysSend180: !!values['always-send-180'],
      defaultRefresher: refresher as 'none' | 'uac' | 'uas',
      ...(values['user-agent-options-auto-respond'] ? { optionsAutoRespondUserAgent: values['user-agent-options-auto-respond'] } : {}),
      preserveHeaderNames: new Set((env.DRACHTIO_PRESERVE_HEADER_NAMES ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)),
    },
    dnsNames: values['dns-name'] ?? [],
    ...(handlerUrl !== undefined ? { requestHandler: { url: handlerUrl, method: handlerMethod as 'GET' | 'POST' } } : {}),
    version: ENGINE_VERSION,
  };
  config.timers!.t1x64 = 64 * config.timers!.t1!;
  if (errors.length) throw new Error(`${errors.join('\n')}\n\n${usage}`);
  return { config, logLevel: level, showVersion: !!values.version };
}
