import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRtpengine } from '../../test/support/fake-rtpengine.js';
import { directMediaWarning, findExecutable, MediaStartError, startMedia, type MediaRuntime } from './start-media.js';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(): { log: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

const local = { mode: 'local', binary: 'rtpengine', required: false, portMin: 40000, portMax: 40999, address: '127.0.0.1' } as const;
const base = { ownerTag: 'sb-unit-', sipAddress: '127.0.0.1' };

describe('startMedia', () => {
  let runtime: MediaRuntime | undefined;
  let fake: FakeRtpengine | undefined;
  afterEach(async () => {
    await runtime?.stop();
    await fake?.close();
    runtime = undefined;
    fake = undefined;
  });

  it('SWITCHBOARD_MEDIA=direct: direct media, no readiness check', async () => {
    const { log } = capturingLogger();
    runtime = await startMedia({ mode: 'direct' }, { ...base, log, searchPath: '' });
    expect(runtime.anchor.kind).toBe('direct');
    expect(runtime.readiness).toBeUndefined();
  });

  it('no rtpengine installed: direct media with one warning line, and the banner says how to anchor', async () => {
    const { log, lines } = capturingLogger();
    runtime = await startMedia(local, { ...base, log, searchPath: '/nonexistent' });
    expect(runtime.anchor.kind).toBe('direct');
    expect(runtime.summary).toBe(directMediaWarning);
    expect(runtime.summary).toMatch(/apt-get install rtpengine-daemon.*RTPENGINE_NG/);
    expect(lines.filter((l) => l.level >= 40)).toHaveLength(1);
  });

  it('a binary asked for explicitly but missing is a start error', async () => {
    const { log } = capturingLogger();
    await expect(startMedia({ ...local, binary: '/nonexistent/rtpengine', required: true }, { ...base, log, searchPath: '' })).rejects.toBeInstanceOf(MediaStartError);
  });

  it('RTPENGINE_NG that does not answer is a start error that says so', async () => {
    fake = await FakeRtpengine.start();
    fake.handler = () => undefined;
    const { log } = capturingLogger();
    const err = await startMedia({ mode: 'external', host: '127.0.0.1', port: fake.port }, { ...base, log, searchPath: '' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaStartError);
    expect((err as Error).message).toMatch(new RegExp(`rtpengine at 127\\.0\\.0\\.1:${fake.port} does not answer.*RTPENGINE_NG`));
  });

  it('RTPENGINE_NG that answers: anchored, ready, and the sessions a previous run left are deleted', async () => {
    fake = await FakeRtpengine.start();
    fake.handler = (req) => (req.command === 'ping' ? { result: 'pong' } : req.command === 'list' ? { result: 'ok', calls: ['sb-unit-old', 'other'] } : { result: 'ok' });
    const { log } = capturingLogger();
    runtime = await startMedia({ mode: 'external', host: '127.0.0.1', port: fake.port }, { ...base, log, searchPath: '' });
    expect(runtime.anchor.kind).toBe('rtpengine');
    expect(runtime.summary).toBe(`Media   through rtpengine at 127.0.0.1:${fake.port} (RTPENGINE_NG)`);
    await expect(runtime.readiness?.check()).resolves.toBe(true);
    expect(fake.sent('delete').map((r) => r['call-id'])).toEqual(['sb-unit-old']);
  });
});

describe('findExecutable', () => {
  it('finds a name on the search path, takes a path as is, and misses what is not there', () => {
    expect(findExecutable('sh', '/nonexistent:/bin')).toBe('/bin/sh');
    expect(findExecutable('/bin/sh', '')).toBe('/bin/sh');
    expect(findExecutable('no-such-binary-here', '/bin:/usr/bin')).toBeUndefined();
  });
});
