import { describe, expect, it } from 'vitest';
import { parseEngineArgs } from './cli-args.js';

describe('switchboard-engine flags (drachtio-server names)', () => {
  it('reads contacts, admin port, secret and timers', () => {
    const { config } = parseEngineArgs(
      ['--contact', 'sip:127.0.0.1:5070;transport=udp,tcp', '--external-ip', '203.0.113.9', '-p', '9061', '--secret', 'cymru', '--t1', '250'],
      {},
    );
    expect(config.listen.map((l) => `${l.protocol}/${l.bindAddress}:${l.port}`)).toEqual(['udp/127.0.0.1:5070', 'tcp/127.0.0.1:5070']);
    expect(config.listen.every((l) => l.advertisedHost === '203.0.113.9')).toBe(true);
    expect(config.admin).toMatchObject({ port: 9061, secret: 'cymru', host: '0.0.0.0' });
    expect(config.timers).toMatchObject({ t1: 250, t1x64: 16000 });
  });

  it('falls back to the DRACHTIO_* environment, flags winning', () => {
    const env = { DRACHTIO_SECRET: 'envsecret', DRACHTIO_ADMIN_TCP_PORT: '9100', DRACHTIO_CONTACT: 'sip:127.0.0.1:5099;transport=udp' };
    const fromEnv = parseEngineArgs([], env).config;
    expect(fromEnv.admin).toMatchObject({ secret: 'envsecret', port: 9100 });
    expect(fromEnv.listen.map((l) => l.port)).toEqual([5099]);
    expect(parseEngineArgs(['--secret', 'flag'], env).config.admin.secret).toBe('flag');
  });

  it('lists every bad value at once', () => {
    let message = '';
    try {
      parseEngineArgs(['--contact', 'sip:127.0.0.1:5060;transport=tls', '--port', 'x', '--loglevel', 'loud'], {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('sip:127.0.0.1:5060;transport=tls needs --key-file and --cert-file');
    expect(message).toContain('--port must be a whole number, got "x"');
    expect(message).toContain('--loglevel loud is not a level');
  });

  it('answers --help with the usage instead of starting', () => {
    expect(parseEngineArgs(['--help'], {}).help).toMatch(/^usage: switchboard-engine/);
  });

  it('reads --http-handler and --http-method (or DRACHTIO_HTTP_HANDLER_URI), GET by default', () => {
    expect(parseEngineArgs(['--http-handler', 'tcp://127.0.0.1:9123'], {}).config.requestHandler).toEqual({ url: 'tcp://127.0.0.1:9123', method: 'GET' });
    expect(parseEngineArgs(['--http-handler', 'https://router.example/route', '--http-method', 'post'], {}).config.requestHandler).toEqual({ url: 'https://router.example/route', method: 'POST' });
    expect(parseEngineArgs([], { DRACHTIO_HTTP_HANDLER_URI: 'http://127.0.0.1:3000/' }).config.requestHandler?.url).toBe('http://127.0.0.1:3000/');
    expect(parseEngineArgs([], {}).config.requestHandler).toBeUndefined();
  });

  it('refuses a handler URL of another scheme, a tcp:// one without port, and other methods', () => {
    for (const bad of ['ftp://x', 'tcp://127.0.0.1', 'router.example']) {
      expect(() => parseEngineArgs(['--http-handler', bad], {})).toThrow(/--http-handler must be/);
    }
    expect(() => parseEngineArgs(['--http-handler', 'http://x/', '--http-method', 'PUT'], {})).toThrow(/--http-method must be GET or POST/);
  });
});
