import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FakeRtpengine } from '../../../test/support/fake-rtpengine.js';
import { MediaError } from '../media-error.js';
import { createNgClient, type NgClient } from './ng-client.js';
import { RtpengineAnchor } from './rtpengine-anchor.js';

const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const log = pino({ level: 'silent' });

let fake: FakeRtpengine;
let client: NgClient;
let anchor: RtpengineAnchor;

beforeEach(async () => {
  fake = await FakeRtpengine.start();
  client = createNgClient({ host: '127.0.0.1', port: fake.port, timeoutMs: 300 });
  anchor = new RtpengineAnchor({ client, ownerTag: 'sb-test-', log });
});
afterEach(async () => {
  anchor.close();
  await fake.close();
});

describe('RtpengineAnchor: the ng dictionaries it sends', () => {
  it('offers with the owner-tagged call id, ICE removed, o= and session c= replaced, no recording', async () => {
    fake.handler = () => ({ result: 'ok', sdp: 'rewritten' });
    await expect(anchor.offer({ callId: 'c1', fromTag: 'ft', sdp })).resolves.toEqual({ sdp: 'rewritten' });
    expect(fake.sent('offer')).toEqual([
      { command: 'offer', 'call-id': 'sb-test-c1', 'from-tag': 'ft', sdp, ICE: 'remove', replace: ['origin', 'session-connection'], 'record call': 'no' },
    ]);
  });

  it('maps the optional flags: ICE force, transport protocol, recording, label', async () => {
    fake.handler = () => ({ result: 'ok', sdp: 'x' });
    await anchor.offer({ callId: 'c1', fromTag: 'ft', sdp, flags: { ice: 'force', transportProtocol: 'UDP/TLS/RTP/SAVPF', record: true, label: 'caller' } });
    expect(fake.sent('offer')[0]).toMatchObject({ ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'record call': 'yes', label: 'caller' });
  });

  it('a re-offer (re-INVITE) names both tags, so rtpengine knows which side renegotiates', async () => {
    fake.handler = () => ({ result: 'ok', sdp: 'x' });
    await anchor.offer({ callId: 'c1', fromTag: 'tt', toTag: 'ft', sdp });
    expect(fake.sent('offer')[0]).toMatchObject({ 'call-id': 'sb-test-c1', 'from-tag': 'tt', 'to-tag': 'ft', sdp });
  });

  it('answers with both tags', async () => {
    fake.handler = () => ({ result: 'ok', sdp: 'answered' });
    await expect(anchor.answer({ callId: 'c1', fromTag: 'ft', toTag: 'tt', sdp })).resolves.toEqual({ sdp: 'answered' });
    expect(fake.sent('answer')[0]).toMatchObject({ 'call-id': 'sb-test-c1', 'from-tag': 'ft', 'to-tag': 'tt', sdp, ICE: 'remove' });
  });

  it('deletes a whole session, or one side with its from-tag', async () => {
    await anchor.delete({ callId: 'c1' });
    await anchor.delete({ callId: 'c1', fromTag: 'ft' });
    expect(fake.sent('delete')).toEqual([
      { command: 'delete', 'call-id': 'sb-test-c1' },
      { command: 'delete', 'call-id': 'sb-test-c1', 'from-tag': 'ft' },
    ]);
  });
});

describe('RtpengineAnchor: failures', () => {
  it('turns result=error into a media.rejected MediaError that keeps the error-reason', async () => {
    fake.handler = () => ({ result: 'error', 'error-reason': 'Failed to parse SDP' });
    const err = await anchor.offer({ callId: 'c1', fromTag: 'ft', sdp: 'garbage' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err).toMatchObject({ code: 'media.rejected', command: 'offer', reason: 'Failed to parse SDP', sipStatus: 503 });
  });

  it('turns silence into media.unavailable after the timeout', async () => {
    fake.handler = () => undefined;
    const started = Date.now();
    await expect(anchor.ping()).rejects.toMatchObject({ code: 'media.unavailable', command: 'ping' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('refuses an offer reply without SDP', async () => {
    fake.handler = () => ({ result: 'ok' });
    await expect(anchor.offer({ callId: 'c1', fromTag: 'ft', sdp })).rejects.toMatchObject({ code: 'media.rejected' });
  });

  it('treats deleting an unknown call as done (idempotent), whichever way rtpengine words it', async () => {
    fake.handler = () => ({ result: 'ok', warning: "Call-ID not found or tags didn't match" });
    await expect(anchor.delete({ callId: 'gone' })).resolves.toBeUndefined();
    fake.handler = () => ({ result: 'error', 'error-reason': 'Unknown call-id' });
    await expect(anchor.delete({ callId: 'gone' })).resolves.toBeUndefined();
  });

  it('still fails a delete that rtpengine could not carry out for another reason', async () => {
    fake.handler = () => ({ result: 'error', 'error-reason': 'Incomplete message' });
    await expect(anchor.delete({ callId: 'c1' })).rejects.toMatchObject({ code: 'media.rejected' });
  });

  it('query of an unknown call is undefined, not an error', async () => {
    fake.handler = () => ({ result: 'error', 'error-reason': 'Unknown call-id' });
    await expect(anchor.query('gone')).resolves.toBeUndefined();
  });
});

describe('RtpengineAnchor: query, list and session ownership', () => {
  it('sums query counters per tag, RTP and RTCP apart', async () => {
    const stream = (flags: string[], packets: number, bytes: number) => ({ flags, stats: { packets, bytes, errors: 0 } });
    fake.handler = () => ({
      result: 'ok',
      created: 1700000000,
      tags: {
        ft: { tag: 'ft', label: 'caller', medias: [{ streams: [stream(['RTP'], 10, 1720), stream(['RTCP'], 1, 60)] }] },
        tt: { tag: 'tt', medias: [{ streams: [stream(['RTP'], 7, 1204), stream(['RTCP'], 0, 0)] }] },
      },
    });
    await expect(anchor.query('c1')).resolves.toEqual({
      callId: 'c1',
      createdAt: 1700000000,
      legs: [
        { tag: 'ft', label: 'caller', rtp: { packets: 10, bytes: 1720 }, rtcp: { packets: 1, bytes: 60 } },
        { tag: 'tt', rtp: { packets: 7, bytes: 1204 }, rtcp: { packets: 0, bytes: 0 } },
      ],
    });
    expect(fake.sent('query')[0]).toEqual({ command: 'query', 'call-id': 'sb-test-c1' });
  });

  it('lists only the sessions with its owner tag, with the tag stripped', async () => {
    fake.handler = () => ({ result: 'ok', calls: ['sb-test-a', 'someone-else', 'sb-other-b', 'sb-test-c'] });
    await expect(anchor.list()).resolves.toEqual(['a', 'c']);
    expect(fake.sent('list')[0]).toMatchObject({ limit: 100000 });
  });

  it('remembers open sessions: releaseAll deletes them, and a delete forgets one', async () => {
    fake.handler = (req) => (req.command === 'offer' ? { result: 'ok', sdp: 'x' } : { result: 'ok' });
    await anchor.offer({ callId: 'a', fromTag: 'f', sdp });
    await anchor.offer({ callId: 'b', fromTag: 'f', sdp });
    await anchor.delete({ callId: 'a' });
    expect(anchor.openSessions).toBe(1);
    await expect(anchor.releaseAll()).resolves.toBe(1);
    expect(fake.sent('delete').map((r) => r['call-id'])).toEqual(['sb-test-a', 'sb-test-b']);
    expect(anchor.openSessions).toBe(0);
  });

  it('sweepStale deletes the sessions of a previous run of this instance, not its own nor others', async () => {
    fake.handler = (req) =>
      req.command === 'list' ? { result: 'ok', calls: ['sb-test-old1', 'sb-test-mine', 'other-x', 'sb-test-old2'] } : req.command === 'offer' ? { result: 'ok', sdp: 'x' } : { result: 'ok' };
    await anchor.offer({ callId: 'mine', fromTag: 'f', sdp });
    await expect(anchor.sweepStale()).resolves.toEqual(['old1', 'old2']);
    expect(fake.sent('delete').map((r) => r['call-id'])).toEqual(['sb-test-old1', 'sb-test-old2']);
  });

  it('rejects an owner tag that could not be a call-id prefix', () => {
    expect(() => new RtpengineAnchor({ client, ownerTag: 'has space', log })).toThrow(/token characters/);
  });
});
