/**
 * Layer rules from ../shared/docs/architecture.md:
 *   shared ← config, obs ← engine, events, store ← sip, media ← pbx ← api, cli ← main
 * A module imports only from modules to its left, and there are no cycles. src/app/ (main's
 * composition parts) may import anything and, being in no layer's list, nothing may import it.
 */
const layers = {
  shared: [],
  config: ['shared'],
  obs: ['shared', 'config'],
  engine: ['shared', 'obs'],
  events: ['shared', 'config', 'obs'],
  store: ['shared', 'config', 'obs', 'events'],
  sip: ['shared', 'config', 'obs', 'events', 'store'],
  media: ['shared', 'config', 'obs', 'events', 'store'],
  pbx: ['shared', 'config', 'obs', 'events', 'store', 'sip', 'media'],
  api: ['shared', 'config', 'obs', 'events', 'store', 'sip', 'media', 'pbx'],
  cli: ['shared', 'config', 'obs', 'events', 'store', 'sip', 'media', 'pbx', 'api'],
};

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  name: `${layer}-imports-only-leftward`,
  comment: `src/${layer} may import only from: ${allowed.join(', ') || '(nothing in src)'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: {
    path: '^src/([^/]+)/',
    pathNot: [`^src/${layer}/`, ...allowed.map((a) => `^src/${a}/`)],
  },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...layerRules,
    {
      name: 'only-sip-imports-drachtio-srf',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(sip|main\\.ts)' },
      to: { path: 'node_modules/drachtio-srf' },
    },
    {
      name: 'only-media-rtpengine-imports-rtpengine-client',
      comment: 'call logic sees media through the MediaAnchor port (src/media/ports.ts), never the ng protocol',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/media/rtpengine/' },
      to: { path: 'node_modules/rtpengine-client' },
    },
    {
      name: 'engine-stays-independent',
      comment: 'the engine knows nothing of the PBX; it must not use the app framework either',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: 'node_modules/(drachtio-srf|hono|kysely|better-sqlite3|rtpengine-client)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
