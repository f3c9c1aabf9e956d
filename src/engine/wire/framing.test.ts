import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encodeFrame } from './framing.js';

describe('encodeFrame', () => {
  it('prefixes the UTF-8 byte length, not the string length', () => {
    expect(encodeFrame('abc').toString('utf8')).toBe('3#abc');
    // é is 2 bytes, 😀 is 4 bytes (and 2 UTF-16 code units)
    expect(encodeFrame('é😀').toString('utf8')).toBe('6#é😀');
  });

  it('refuses an empty payload (srf throws on a zero length)', () => {
    expect(() => encodeFrame('')).toThrow(/empty/);
  });
});

describe('FrameDecoder', () => {
  it('decodes several frames from one chunk', () => {
    const d = new FrameDecoder();
    const chunk = Buffer.concat(['a|ping', 'b|route|invite', 'c|x'].map(encodeFrame));
    expect(d.push(chunk)).toEqual(['a|ping', 'b|route|invite', 'c|x']);
    expect(d.pendingBytes).toBe(0);
  });

  it('decodes a frame delivered one byte at a time', () => {
    const d = new FrameDecoder();
    const bytes = encodeFrame('id|authenticate|cymru|');
    const out: string[] = [];
    for (const b of bytes) out.push(...d.push(Buffer.from([b])));
    expect(out).toEqual(['id|authenticate|cymru|']);
  });

  it('keeps a multi-byte UTF-8 character intact when split across chunks', () => {
    const payload = 'm|sip||\r\nMESSAGE sip:a SIP/2.0\r\n\r\nhé 😀 ✓';
    const bytes = encodeFrame(payload);
    const emoji = bytes.indexOf(Buffer.from('😀'));
    const d = new FrameDecoder();
    // split in the middle of the 4-byte emoji, then in the middle of ✓
    expect(d.push(bytes.subarray(0, emoji + 2))).toEqual([]);
    expect(d.push(bytes.subarray(emoji + 2, bytes.length - 1))).toEqual([]);
    expect(d.push(bytes.subarray(bytes.length - 1))).toEqual([payload]);
  });

  it('handles a length prefix split across chunks and a frame tail sharing a chunk with the next', () => {
    const d = new FrameDecoder();
    const all = Buffer.concat([encodeFrame('x'.repeat(1234)), encodeFrame('second')]);
    expect(d.push(all.subarray(0, 2))).toEqual([]); // "12"
    expect(d.push(all.subarray(2, 1000))).toEqual([]);
    expect(d.push(all.subarray(1000, all.length - 3))).toEqual(['x'.repeat(1234)]);
    expect(d.push(all.subarray(all.length - 3))).toEqual(['second']);
  });

  it('accepts frames above the C++ server’s 100 000-byte limit', () => {
    const big = 'y'.repeat(250_000);
    const bytes = encodeFrame(big);
    const d = new FrameDecoder();
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += 65536) out.push(...d.push(bytes.subarray(i, i + 65536)));
    expect(out).toEqual([big]);
  });

  it('enforces the configured maximum', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    expect(d.push(encodeFrame('z'.repeat(100)))).toHaveLength(1);
    expect(() => d.push(encodeFrame('z'.repeat(101)))).toThrow(FrameError);
    expect(new FrameDecoder().push(Buffer.from('5#hello'))).toEqual(['hello']);
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
  });

  it('rejects an over-long prefix before buffering a huge payload', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1000 });
    expect(() => d.push(Buffer.from('99999'))).toThrow(/longer than 4 digits/);
  });

  it.each([
    ['non-digit prefix', 'GET / HTTP/1.1\r\n'],
    ['zero length', '0#'],
    ['missing length', '#abc'],
    ['negative length', '-5#abcde'],
  ])('rejects a %s', (_name, input) => {
    const d = new FrameDecoder();
    expect(() => d.push(Buffer.from(input))).toThrow(FrameError);
    // the stream cannot be resynchronised: later pushes keep failing
    expect(() => d.push(encodeFrame('ok'))).toThrow(FrameError);
  });

  it('reports the frames completed before the fault', () => {
    const d = new FrameDecoder();
    const input = Buffer.concat([encodeFrame('a|ping'), Buffer.from('garbage')]);
    try {
      d.push(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FrameError);
      expect((err as FrameError).frames).toEqual(['a|ping']);
      expect((err as FrameError).code).toBe('wire-bad-length');
    }
  });

  it('round-trips arbitrary payloads under arbitrary chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const bytes = Buffer.concat(payloads.map(encodeFrame));
          const d = new FrameDecoder();
          const out: string[] = [];
          let pos = 0;
          let i = 0;
          while (pos < bytes.length) {
            const n = cuts[i++ % cuts.length] as number;
            out.push(...d.push(bytes.subarray(pos, pos + n)));
            pos += n;
          }
          // lone surrogates are not representable in UTF-8; compare against the re-encoded form
          expect(out).toEqual(payloads.map((p) => Buffer.from(p, 'utf8').toString('utf8')));
          expect(d.pendingBytes).toBe(0);
        },
      ),
    );
  });
});
