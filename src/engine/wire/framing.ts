/**
 * Framing of the drachtio admin protocol (docs/drachtio-protocol.md §1): every message travels as
 * `<N>#<payload>`, where N is the UTF-8 byte length of the payload in ASCII decimal, with nothing
 * between frames. TCP and TLS use the same framing.
 */
import { SwitchboardError } from '../../shared/errors.js';

/** Default largest payload accepted from an app: far above the C++ server's 5-digit limit, still bounded. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const HASH = 0x23; // '#'
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Encodes one payload as a frame.
 *
 * Throws on an empty payload: srf throws (client mode) or closes the socket (listen mode) on a
 * zero length, so an empty frame would take down the app's connection.
 */
export function encodeFrame(payload: string): Buffer {
  if (payload.length === 0) {
    throw new SwitchboardError('wire-empty-frame', 'refusing to send an empty drachtio frame');
  }
  // One buffer, encoded in place: measuring the UTF-8 length is cheaper than encoding the payload
  // into a buffer of its own and copying it behind the prefix (two allocations and a copy per frame).
  const length = Buffer.byteLength(payload, 'utf8');
  const prefix = `${length}#`;
  const frame = Buffer.allocUnsafe(prefix.length + length);
  frame.write(prefix, 0, 'latin1');
  frame.write(payload, prefix.length, 'utf8');
  return frame;
}

/**
 * The peer broke the framing. The stream cannot be resynchronised, so the connection must be
 * closed; `frames` holds the payloads completed before the fault, in order, so that commands the
 * peer sent correctly are still handled.
 */
export class FrameError extends SwitchboardError {
  readonly frames: string[];

  constructor(code: 'wire-bad-length' | 'wire-frame-too-large', message: string, frames: string[]) {
    super(code, message);
    this.name = 'FrameError';
    this.frames = frames;
  }
}

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes; defaults to {@link DEFAULT_MAX_FRAME_BYTES}. */
  maxFrameBytes?: number;
}

/**
 * Streaming decoder: feed it socket chunks, get back the complete payloads they finish.
 *
 * A payload is decoded as UTF-8 only once all of its bytes are present, so a multi-byte character
 * split across TCP reads is never mangled. Chunks of a large frame are collected in a list and
 * joined once, keeping a 16 MiB frame arriving in 64 KiB reads linear rather than quadratic.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Longest acceptable length prefix; a longer run of bytes without `#` is garbage, not a slow peer. */
  private readonly maxPrefixDigits: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being collected, once its prefix has been read; -1 while reading a prefix. */
  private expected = -1;
  private failed: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(this.maxFrameBytes) || this.maxFrameBytes < 1) {
      throw new RangeError(`maxFrameBytes must be a positive integer, got ${this.maxFrameBytes}`);
    }
    this.maxPrefixDigits = String(this.maxFrameBytes).length;
  }

  /** Bytes received but not yet part of a completed payload. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and returns every payload it completes, in order.
   *
   * @throws FrameError when the length prefix is not 1+ ASCII digits followed by `#`, is zero, or
   *   exceeds the maximum. Every later call throws the same error.
   */
  push(chunk: Buffer): string[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: string[] = [];
    for (;;) {
      if (this.expected < 0) {
        const prefix = this.readPrefix(out);
        if (prefix === undefined) return out;
        this.expected = prefix;
      }
      if (this.buffered < this.expected) return out;
      out.push(this.take(this.expected).toString('utf8'));
      this.expected = -1;
    }
  }

  /** Parses and consumes a length prefix; undefined when more bytes are needed. */
  private readPrefix(out: string[]): number | undefined {
    if (this.buffered === 0) return undefined;
    // The prefix is short, so flattening only a bounded head keeps this cheap.
    const head = this.peek(this.maxPrefixDigits + 1);
    let value = 0;
    for (let i = 0; i < head.length; i++) {
      const byte = head[i] as number;
      if (byte === HASH) {
        if (i === 0) return this.fail('wire-bad-length', 'frame starts with "#" (missing length)', out);
        if (value === 0) return this.fail('wire-bad-length', 'zero-length frame', out);
        if (value > this.maxFrameBytes) {
          return this.fail('wire-frame-too-large', `frame of ${value} bytes exceeds ${this.maxFrameBytes}`, out);
        }
        this.take(i + 1);
        return value;
      }
      if (byte < DIGIT_0 || byte > DIGIT_9) {
        return this.fail('wire-bad-length', `invalid byte 0x${byte.toString(16)} in length prefix`, out);
      }
      value = value * 10 + (byte - DIGIT_0);
    }
    if (head.length > this.maxPrefixDigits) {
      return this.fail('wire-frame-too-large', `length prefix longer than ${this.maxPrefixDigits} digits`, out);
    }
    return undefined;
  }

  private fail(code: 'wire-bad-length' | 'wire-frame-too-large', message: string, out: string[]): never {
    this.failed = new FrameError(code, message, out);
    this.chunks = [];
    this.buffered = 0;
    throw this.failed;
  }

  /** The first `n` buffered bytes (or fewer if fewer are buffered), without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n || this.chunks.length === 1) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  /** Removes and returns exactly `n` bytes; the caller guarantees they are buffered. */
  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let need = n;
      while (need > 0) {
        const c = this.chunks[0] as Buffer;
        if (c.length <= need) {
          parts.push(c);
          this.chunks.shift();
          need -= c.length;
        } else {
          parts.push(c.subarray(0, need));
          this.chunks[0] = c.subarray(need);
          need = 0;
        }
      }
      result = Buffer.concat(parts, n);
    }
    this.buffered -= n;
    return result;
  }
}
