import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { OPENAPI_PATH } from '../api/openapi.js';
import type { RunningApi } from '../api/server.js';
import type { AppConfig } from '../config/load-config.js';
import type { MediaRuntime } from '../media/start-media.js';
import type { SipApp } from '../sip/sip-app.js';
import type { SeedResult } from '../store/seed.js';
import type { EngineProcess } from './engine-process.js';

/** The package version, for `/health` and the OpenAPI document (package.json sits two levels up from src/app/ and dist/app/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/**
 * The demo tenant's SIP domain: the first host the engine advertises, unless that is a wildcard
 * bind address (0.0.0.0, ::) that no phone can use as a domain; then a placeholder the operator
 * renames through the API.
 */
export function demoSipDomain(app: SipApp): string {
  const first = app.engine.hostports[0] ?? '';
  const hostPort = first.slice(first.indexOf('/') + 1);
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  if (host === '' || host === '0.0.0.0' || host === '::' || (isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host))) return 'switchboard.local';
  return host;
}

/** The URL a local user can open: a wildcard bind is reachable on loopback. */
function apiUrl(api: RunningApi): string {
  const { address, port } = api.address;
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * The first-start lines: the clear-text secrets go to stderr here, once, and never into the JSON
 * logs. A bootstrap key from the environment is already known to whoever set it, so it is not echoed.
 */
function seedBanner(seed: SeedResult): string[] {
  return [
    `  Seeded  demo tenant ${seed.tenant.sip_domain} (first start; shown only this once)`,
    ...seed.extensions.map((e) => `          extension ${e.number}  SIP password ${e.sipPassword}`),
    seed.apiKeyGenerated ? `          admin API key ${seed.apiKey}` : '          admin API key: the one in SWITCHBOARD_BOOTSTRAP_API_KEY',
  ];
}

/** What main prints on stderr once everything runs: where phones and integrations connect. */
export function banner(config: AppConfig, app: SipApp, engine: EngineProcess | undefined, media: MediaRuntime, api: RunningApi, seed: SeedResult | undefined, setupDone: boolean): string {
  const transports = app.engine.hostports.join(', ');
  const where = app.engine.hostports.find((h) => h.startsWith('udp/')) ?? app.engine.hostports[0] ?? '';
  const hostPort = where.slice(where.indexOf('/') + 1);
  const source = engine ? `embedded engine (pid ${engine.child.pid}), bound to ${config.sip.address}` : `external drachtio-server ${config.engine.mode === 'external' ? `${config.engine.host}:${config.engine.port}` : ''}`;
  return [
    '',
    '  Switchboard is running',
    '',
    `  SIP     ${transports}  — ${source}`,
    `  Phones  set the SIP server (registrar/proxy) of a phone or softphone to ${hostPort}, UDP or TCP.`,
    '          Phones register with digest authentication (SHA-256 or MD5) and call each other',
    '          by extension number.',
    `  ${media.summary}`,
    `  API     ${apiUrl(api)}  — docs ${apiUrl(api)}/api/v1/docs, OpenAPI ${apiUrl(api)}${OPENAPI_PATH}, health ${apiUrl(api)}/health`,
    `  Data    ${config.dataDir}`,
    ...(seed ? seedBanner(seed) : []),
    ...(setupDone ? [] : [`  Setup   no owner user yet: POST ${apiUrl(api)}/api/v1/setup/complete (see the docs page)`]),
    '  Stop    Ctrl-C (or SIGTERM)',
    '',
  ].join('\n');
}
