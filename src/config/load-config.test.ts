import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, sipContactUri, type AppConfig } from './load-config.js';

const opts = { cwd: '/srv/switchboard', generateSecret: () => 'generated-secret' };

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment: embedded engine, SIP on 0.0.0.0:5060', () => {
    expect(loadConfig({}, opts)).toEqual<AppConfig>({
      sip: { address: '0.0.0.0', port: 5060 },
      engine: { mode: 'embedded', adminHost: '127.0.0.1', adminPort: 9022, secret: 'generated-secret' },
      media: { mode: 'local', binary: 'rtpengine', required: false, portMin: 40000, portMax: 49999, address: undefined },
      registrar: { digestAlgorithms: ['SHA-256', 'MD5'], qualifySeconds: 30 },
      calls: { ringTimeoutSeconds: 45 },
      dialplan: { path: undefined },
      webhooks: { allowlist: [], breakerPauseSeconds: 300 },
      events: { retentionHours: 24, deliveryLogRetentionHours: 168 },
      logLevel: 'info',
      dataDir: '/srv/switchboard/data',
      http: { address: '0.0.0.0', port: 8080 },
      secrets: { bootstrapApiKey: undefined, secretKeyHex: undefined },
    });
  });

  it('ignores variables that are not its own', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' }, opts).sip.port).toBe(5060);
  });

  it('treats an empty value as unset', () => {
    const c = loadConfig({ SWITCHBOARD_SIP_PORT: '', SWITCHBOARD_LOG_LEVEL: ' ', DRACHTIO_HOST: '' }, opts);
    expect(c.sip.port).toBe(5060);
    expect(c.logLevel).toBe('info');
    expect(c.engine.mode).toBe('embedded');
  });

  it('reads every variable', () => {
    const c = loadConfig(
      {
        SWITCHBOARD_SIP_PORT: '5080',
        SWITCHBOARD_SIP_ADDRESS: '192.0.2.10',
        SWITCHBOARD_ENGINE_ADMIN_PORT: '9122',
        SWITCHBOARD_LOG_LEVEL: 'debug',
        SWITCHBOARD_DATA_DIR: '/var/lib/switchboard',
        SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'md5, sha-256',
        SWITCHBOARD_SIP_QUALIFY_SECONDS: '0',
        SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS: '20',
        SWITCHBOARD_DIALPLAN: 'conf/dialplan.json',
        SWITCHBOARD_WEBHOOK_ALLOWLIST: '10.20.0.0/16, ::1',
        SWITCHBOARD_EVENT_RETENTION_HOURS: '48',
        SWITCHBOARD_WEBHOOK_LOG_RETENTION_HOURS: '720',
        DRACHTIO_SECRET: 'fixed',
      },
      opts,
    );
    expect(c).toEqual<AppConfig>({
      sip: { address: '192.0.2.10', port: 5080 },
      engine: { mode: 'embedded', adminHost: '127.0.0.1', adminPort: 9122, secret: 'fixed' },
      media: { mode: 'local', binary: 'rtpengine', required: false, portMin: 40000, portMax: 49999, address: undefined },
      registrar: { digestAlgorithms: ['MD5', 'SHA-256'], qualifySeconds: 0 },
      calls: { ringTimeoutSeconds: 20 },
      dialplan: { path: '/srv/switchboard/conf/dialplan.json' },
      webhooks: { allowlist: [{ address: '10.20.0.0', prefix: 16, family: 'ipv4' }, { address: '::1', prefix: 128, family: 'ipv6' }], breakerPauseSeconds: 300 },
      events: { retentionHours: 48, deliveryLogRetentionHours: 720 },
      logLevel: 'debug',
      dataDir: '/var/lib/switchboard',
      http: { address: '0.0.0.0', port: 8080 },
      secrets: { bootstrapApiKey: undefined, secretKeyHex: undefined },
    });
  });

  it('uses an external drachtio-server when DRACHTIO_HOST is set', () => {
    const c = loadConfig({ DRACHTIO_HOST: 'drachtio.internal', DRACHTIO_SECRET: 'cymru' }, opts);
    expect(c.engine).toEqual({ mode: 'external', host: 'drachtio.internal', port: 9022, secret: 'cymru' });
    expect(loadConfig({ DRACHTIO_HOST: '10.0.0.5', DRACHTIO_PORT: '9023', DRACHTIO_SECRET: 's' }, opts).engine).toMatchObject({ port: 9023 });
  });

  it('generates a new engine secret per start by default', () => {
    const a = loadConfig({}).engine.secret;
    const b = loadConfig({}).engine.secret;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({}, opts);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.sip)).toBe(true);
    expect(Object.isFrozen(c.engine)).toBe(true);
  });

  it('lists every bad key at once', () => {
    const problems = problemsOf({
      SWITCHBOARD_SIP_PORT: 'abc',
      SWITCHBOARD_SIP_ADDRESS: 'example.com',
      SWITCHBOARD_ENGINE_ADMIN_PORT: '70000',
      SWITCHBOARD_LOG_LEVEL: 'loud',
      SWITCHBOARD_SIP_PROT: '5060',
      DRACHTIO_PORT: '9022',
    });
    const keys = problems.map((p) => p.split(':')[0]);
    expect(keys.sort()).toEqual(
      [
        'DRACHTIO_PORT',
        'SWITCHBOARD_ENGINE_ADMIN_PORT',
        'SWITCHBOARD_LOG_LEVEL',
        'SWITCHBOARD_SIP_ADDRESS',
        'SWITCHBOARD_SIP_PORT',
        'SWITCHBOARD_SIP_PROT',
      ].sort(),
    );
    expect(problems.find((p) => p.startsWith('SWITCHBOARD_SIP_PORT'))).toContain('"abc"');
    expect(problems.find((p) => p.startsWith('SWITCHBOARD_SIP_PROT'))).toContain('unknown variable');
  });

  it('names each bad entry of the webhook allow-list', () => {
    const problems = problemsOf({ SWITCHBOARD_WEBHOOK_ALLOWLIST: '10.0.0.0/8, 0177.0.0.1, 10.0.0.0/33, ::1/129, fd00::/8' });
    expect(problems.every((p) => p.startsWith('SWITCHBOARD_WEBHOOK_ALLOWLIST: '))).toBe(true);
    expect(problems.map((p) => p.split(': ').slice(1).join(': ').replace(/ \(got .*$/, ''))).toEqual([
      '"0177.0.0.1" is not an IP address or CIDR range',
      '"10.0.0.0/33": prefix length must be 0-32',
      '"::1/129": prefix length must be 0-128',
    ]);
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ SWITCHBOARD_SIP_PORT: '0', SWITCHBOARD_LOG_LEVEL: 'x' }, opts)).toThrow(
      /invalid configuration:\n {2}- SWITCHBOARD_SIP_PORT: .*\n {2}- SWITCHBOARD_LOG_LEVEL: /,
    );
  });

  it('requires the secret of an external server, alongside schema problems', () => {
    const problems = problemsOf({ DRACHTIO_HOST: 'drachtio', SWITCHBOARD_SIP_PORT: '-1' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DRACHTIO_SECRET', 'SWITCHBOARD_SIP_PORT']);
  });

  it('rejects a bad DRACHTIO_HOST and DRACHTIO_PORT', () => {
    const problems = problemsOf({ DRACHTIO_HOST: 'bad host', DRACHTIO_PORT: '0', DRACHTIO_SECRET: 's' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DRACHTIO_HOST', 'DRACHTIO_PORT']);
  });

  it('never echoes a secret value', () => {
    const problems = problemsOf({ DRACHTIO_SECRET: 'top|secret' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DRACHTIO_SECRET: /);
    expect(problems[0]).not.toContain('top');
  });

  it('rejects the admin port on the SIP port (both TCP)', () => {
    expect(problemsOf({ SWITCHBOARD_SIP_PORT: '9022' })).toEqual([expect.stringMatching(/^SWITCHBOARD_ENGINE_ADMIN_PORT: 9022 is also SWITCHBOARD_SIP_PORT/)]);
  });

  it('accepts port 0 for the admin socket (any free port) but not for SIP', () => {
    expect(loadConfig({ SWITCHBOARD_ENGINE_ADMIN_PORT: '0' }, opts).engine).toMatchObject({ adminPort: 0 });
    expect(problemsOf({ SWITCHBOARD_SIP_PORT: '0' })).toHaveLength(1);
  });
});

describe('HTTP and secret keys', () => {
  const apiKey = `sk_live_${'0123456789abcdef'.repeat(3)}`;
  const secretKey = 'A1'.repeat(32);

  it('reads SWITCHBOARD_HTTP_*, the bootstrap key and the secret key', () => {
    const c = loadConfig(
      {
        SWITCHBOARD_HTTP_PORT: '8081',
        SWITCHBOARD_HTTP_ADDRESS: '127.0.0.1',
        SWITCHBOARD_BOOTSTRAP_API_KEY: apiKey,
        SWITCHBOARD_SECRET_KEY: secretKey,
      },
      opts,
    );
    expect(c.http).toEqual({ address: '127.0.0.1', port: 8081 });
    expect(c.secrets).toEqual({ bootstrapApiKey: apiKey, secretKeyHex: secretKey.toLowerCase() });
    expect(loadConfig({ SWITCHBOARD_HTTP_PORT: '0', SWITCHBOARD_HTTP_ADDRESS: '::' }, opts).http).toEqual({ address: '::', port: 0 });
  });

  it.each([
    ['SWITCHBOARD_HTTP_PORT', 'http'],
    ['SWITCHBOARD_HTTP_PORT', '65536'],
    ['SWITCHBOARD_HTTP_PORT', '-1'],
    ['SWITCHBOARD_HTTP_ADDRESS', 'localhost'],
    ['SWITCHBOARD_HTTP_ADDRESS', '300.1.1.1'],
  ])('rejects %s=%s', (key, value) => {
    expect(problemsOf({ [key]: value })).toEqual([expect.stringMatching(new RegExp(`^${key}: .*${JSON.stringify(value)}`))]);
  });

  it.each([
    ['SWITCHBOARD_BOOTSTRAP_API_KEY', 'sk_live_short'],
    ['SWITCHBOARD_BOOTSTRAP_API_KEY', `sk_test_${'ab'.repeat(24)}`],
    ['SWITCHBOARD_BOOTSTRAP_API_KEY', `sk_live_${'AB'.repeat(24)}`],
    ['SWITCHBOARD_BOOTSTRAP_API_KEY', `sk_live_${'ab'.repeat(24)}0`],
    ['SWITCHBOARD_BOOTSTRAP_API_KEY', `sk_live_${'zz'.repeat(24)}`],
    ['SWITCHBOARD_SECRET_KEY', 'ab'.repeat(31)],
    ['SWITCHBOARD_SECRET_KEY', 'ab'.repeat(33)],
    ['SWITCHBOARD_SECRET_KEY', 'zz'.repeat(32)],
  ])('rejects %s=%s without echoing it', (key, value) => {
    const problems = problemsOf({ [key]: value });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${key}: `))]);
    expect(problems[0]).not.toContain(value);
  });
});

describe('sipContactUri', () => {
  it('builds the engine --contact for UDP and TCP', () => {
    expect(sipContactUri({ address: '0.0.0.0', port: 5060 })).toBe('sip:0.0.0.0:5060;transport=udp,tcp');
    expect(sipContactUri({ address: '::', port: 5070 })).toBe('sip:[::]:5070;transport=udp,tcp');
  });
});

describe('loadConfig: media', () => {
  it('uses a running rtpengine when RTPENGINE_NG is set', () => {
    expect(loadConfig({ RTPENGINE_NG: '127.0.0.1:2223' }, opts).media).toEqual({ mode: 'external', host: '127.0.0.1', port: 2223 });
    expect(loadConfig({ RTPENGINE_NG: 'rtpengine.internal:22222' }, opts).media).toMatchObject({ host: 'rtpengine.internal', port: 22222 });
  });

  it('starts its own rtpengine with the configured binary, ports and address', () => {
    const c = loadConfig({ SWITCHBOARD_RTPENGINE_BINARY: '/opt/rtpengine', SWITCHBOARD_RTP_PORT_MIN: '20000', SWITCHBOARD_RTP_PORT_MAX: '20999', SWITCHBOARD_RTP_ADDRESS: '192.0.2.7' }, opts);
    expect(c.media).toEqual({ mode: 'local', binary: '/opt/rtpengine', required: true, portMin: 20000, portMax: 20999, address: '192.0.2.7' });
  });

  it('SWITCHBOARD_MEDIA=direct forces direct media, =rtpengine makes rtpengine required', () => {
    expect(loadConfig({ SWITCHBOARD_MEDIA: 'direct' }, opts).media).toEqual({ mode: 'direct' });
    expect(loadConfig({ SWITCHBOARD_MEDIA: 'rtpengine' }, opts).media).toMatchObject({ mode: 'local', required: true });
  });

  it('lists every bad media variable', () => {
    expect(problemsOf({ RTPENGINE_NG: 'localhost', SWITCHBOARD_MEDIA: 'relay', SWITCHBOARD_RTP_ADDRESS: '0.0.0.0.1' })).toEqual([
      expect.stringMatching(/^SWITCHBOARD_MEDIA: must be auto, direct or rtpengine/),
      expect.stringMatching(/^RTPENGINE_NG: must be host:port/),
      expect.stringMatching(/^SWITCHBOARD_RTP_ADDRESS: must be an IPv4 address/),
    ]);
    expect(problemsOf({ SWITCHBOARD_RTP_PORT_MIN: '30000', SWITCHBOARD_RTP_PORT_MAX: '30001' })).toEqual([expect.stringMatching(/^SWITCHBOARD_RTP_PORT_MAX: must be at least/)]);
    expect(problemsOf({ SWITCHBOARD_MEDIA: 'direct', RTPENGINE_NG: '127.0.0.1:2223' })).toEqual([expect.stringMatching(/^RTPENGINE_NG: set, but SWITCHBOARD_MEDIA=direct/)]);
  });
});
