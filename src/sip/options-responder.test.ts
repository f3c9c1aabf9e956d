import type Srf from 'drachtio-srf';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { answerOptions, capabilityHeaders } from './options-responder.js';

const caps = { allow: ['OPTIONS', 'REGISTER'], accept: ['application/sdp'], supported: ['path', 'outbound'] };

describe('capabilityHeaders', () => {
  it('carries the five headers RFC 3261 §11.2 asks for', () => {
    expect(capabilityHeaders(caps)).toEqual({
      Allow: 'OPTIONS, REGISTER',
      Accept: 'application/sdp',
      'Accept-Encoding': 'identity',
      'Accept-Language': 'en',
      Supported: 'path, outbound',
    });
  });

  it('sends an empty Supported when no extension is supported (§20.37)', () => {
    expect(capabilityHeaders({ ...caps, supported: [] }).Supported).toBe('');
  });
});

describe('answerOptions', () => {
  it('routes OPTIONS and answers 200 with fresh headers each time', () => {
    let verb = '';
    let handler: ((req: unknown, res: unknown) => void) | undefined;
    const srf = { use: (v: string, fn: (req: unknown, res: unknown) => void) => ((verb = v), (handler = fn)) } as unknown as Srf;
    answerOptions(srf, caps, pino({ level: 'silent' }));
    expect(verb).toBe('options');

    const sent: Array<{ status: number; opts: { headers: Record<string, string> } }> = [];
    const req = { get: () => 'call-1', source_address: '127.0.0.1', protocol: 'udp' };
    const res = { send: (status: number, opts: { headers: Record<string, string> }) => sent.push({ status, opts }) };
    handler?.(req, res);
    handler?.(req, res);
    expect(sent.map((s) => s.status)).toEqual([200, 200]);
    expect(sent[0]?.opts.headers.Allow).toBe('OPTIONS, REGISTER');
    expect(sent[0]?.opts.headers).not.toBe(sent[1]?.opts.headers);
  });
});
