import { describe, expect, it } from 'vitest';
import { DirectMedia } from './direct-media.js';

describe('DirectMedia', () => {
  const media = new DirectMedia();
  const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=ice-ufrag:x\r\n';

  it('passes offer and answer SDP through byte for byte', async () => {
    await expect(media.offer({ callId: 'c', fromTag: 'f', sdp })).resolves.toEqual({ sdp });
    await expect(media.answer({ callId: 'c', fromTag: 'f', toTag: 't', sdp })).resolves.toEqual({ sdp });
  });

  it('has nothing to release, count or list', async () => {
    await expect(media.delete({ callId: 'c' })).resolves.toBeUndefined();
    await expect(media.query('c')).resolves.toBeUndefined();
    await expect(media.list()).resolves.toEqual([]);
    await expect(media.ping()).resolves.toBeUndefined();
    expect(media.kind).toBe('direct');
  });
});
