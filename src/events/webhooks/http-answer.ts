/** What {@link HttpAnswer.feed} made of the bytes so far. */
export type AnswerState = 'more' | 'complete' | 'excerpt' | 'malformed';

/** A receiver's answer head may not be larger than this (Node's own server limit is 16 KB too). */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line (with extensions) or a trailer line longer than this is not an answer we read. */
const MAX_LINE_BYTES = 4096;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGITS = /^\d{1,15}$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/;

type Phase = 'head' | 'fixed' | 'until-close' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'done';

/**
 * One HTTP/1.1 answer to a webhook POST, read incrementally (RFC 9112): the status line (1xx
 * answers skipped), the headers that frame the body — Content-Length, chunked Transfer-Encoding,
 * or the end of the connection — and whether the connection may carry the next request. Only the
 * first `limit` bytes of the body are kept (the delivery log's excerpt). Anything it cannot frame
 * with certainty is `malformed`: the connection is then closed, never reused out of step. What it
 * keeps between calls is copied, so the caller may reuse the buffer it feeds.
 */
export class HttpAnswer {
  statusCode = 0;
  /** Why the answer is malformed (for the delivery log). */
  problem = '';
  /** Whether the connection may carry another request once this answer is complete. */
  reusable = true;
  private phase: Phase = 'head';
  /** Bytes of an unfinished head or line, joined with the next chunk. */
  private pending: Buffer | null = null;
  /** Body bytes still to come in the current fixed-length body or chunk. */
  private remaining = 0;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  /** Whether any byte of the answer has been fed. */
  started = false;

  constructor(private readonly limit: number) {}

  /** Past the head: a pause from here on is a pause in the body. */
  get inBody(): boolean {
    return this.phase !== 'head';
  }

  /** The body's first bytes, as text. */
  excerpt(): string {
    return this.keptBytes === 0 ? '' : Buffer.concat(this.kept, this.keptBytes).toString('utf8');
  }

  /** The connection ended: true when that completes the answer (it was complete, or framed by the close). */
  endOfStream(): boolean {
    return this.phase === 'done' || this.phase === 'until-close';
  }

  feed(chunk: Buffer): AnswerState {
    if (chunk.length > 0) this.started = true;
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let pos = 0;
    for (;;) {
      switch (this.phase) {
        case 'head': {
          const end = data.indexOf('\r\n\r\n', pos, 'latin1');
          if (end < 0) return this.wait(data, pos, MAX_HEAD_BYTES, 'answer head larger than 16 KB');
          if (!this.head(data.toString('latin1', pos, end))) return 'malformed';
          pos = end + 4;
          break;
        }
        case 'fixed':
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length - pos);
          this.keep(data, pos, n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.phase = this.phase === 'fixed' ? 'done' : 'chunk-end';
          else return this.keptBytes >= this.limit ? 'excerpt' : 'more';
          break;
        }
        case 'until-close':
          this.keep(data, pos, data.length - pos);
          return this.keptBytes >= this.limit ? 'excerpt' : 'more';
        case 'chunk-size': {
          const end = data.indexOf('\r\n', pos, 'latin1');
          if (end < 0) return this.wait(data, pos, MAX_LINE_BYTES, 'chunk size line too long');
          const m = CHUNK_SIZE.exec(data.toString('latin1', pos, end));
          if (m === null) return this.malformed('bad chunk size');
          pos = end + 2;
          this.remaining = parseInt(m[1]!, 16);
          this.phase = this.remaining === 0 ? 'trailer' : 'chunk-data';
          break;
        }
        case 'chunk-end':
          if (data.length - pos < 2) return this.wait(data, pos, 2, '');
          if (data[pos] !== 0x0d || data[pos + 1] !== 0x0a) return this.malformed('chunk not followed by CRLF');
          pos += 2;
          this.phase = 'chunk-size';
          break;
        case 'trailer': {
          const end = data.indexOf('\r\n', pos, 'latin1');
          if (end < 0) return this.wait(data, pos, MAX_LINE_BYTES, 'trailer line too long');
          // Trailer fields are skipped; the empty line ends the answer.
          this.phase = end === pos ? 'done' : 'trailer';
          pos = end + 2;
          break;
        }
        case 'done':
          // Bytes after a complete answer were never asked for: the connection is out of step.
          if (pos < data.length) this.reusable = false;
          return 'complete';
      }
    }
  }

  /** Keeps the unread rest for the next chunk, unless it is already longer than a line may be. */
  private wait(data: Buffer, pos: number, max: number, tooLong: string): AnswerState {
    if (data.length - pos > max) return this.malformed(tooLong);
    // A copy: the bytes fed may be a read buffer the connection reuses.
    this.pending = Buffer.from(data.subarray(pos));
    return 'more';
  }

  private keep(data: Buffer, pos: number, n: number): void {
    const take = Math.min(n, this.limit - this.keptBytes);
    if (take <= 0) return;
    this.kept.push(Buffer.from(data.subarray(pos, pos + take)));
    this.keptBytes += take;
  }

  private malformed(problem: string): AnswerState {
    this.problem = problem;
    this.reusable = false;
    return 'malformed';
  }

  private reject(problem: string): false {
    this.malformed(problem);
    return false;
  }

  /** Reads a head; false when malformed. A 1xx is skipped (the final answer's head comes next). */
  private head(text: string): boolean {
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]!);
    if (status === null) return this.reject('bad status line');
    const code = Number(status[2]);
    if (code === 101) return this.reject('unexpected 101 Switching Protocols');
    if (code < 200) return true;
    this.statusCode = code;
    let contentLength: string | undefined;
    let codings: string[] = [];
    let keepAlive = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      // No name, whitespace before the colon, or a folded line (RFC 9112 §5.1, §5.2): rejected.
      if (colon <= 0 || !TOKEN.test(name)) return this.reject('bad header line');
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        // A list of identical values is one length (RFC 9110 §8.6); differing ones are not an answer to read.
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!DIGITS.test(v) || (contentLength !== undefined && contentLength !== v)) return this.reject('bad content-length');
          contentLength = v;
        }
      } else if (name === 'transfer-encoding') {
        codings = codings.concat(value.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== ''));
      } else if (name === 'connection') {
        const tokens = value.toLowerCase().split(',').map((t) => t.trim());
        if (tokens.includes('close')) this.reusable = false;
        if (tokens.includes('keep-alive')) keepAlive = true;
      }
    }
    if (status[1] === '0' && !keepAlive) this.reusable = false;
    if (code === 204 || code === 304) this.phase = 'done';
    else if (codings.length > 0) {
      // With both, Transfer-Encoding wins and the connection is not reused (RFC 9112 §6.3).
      if (contentLength !== undefined) this.reusable = false;
      if (codings.at(-1) === 'chunked') this.phase = 'chunk-size';
      else {
        this.phase = 'until-close';
        this.reusable = false;
      }
    } else if (contentLength !== undefined) {
      this.remaining = Number(contentLength);
      this.phase = this.remaining === 0 ? 'done' : 'fixed';
    } else {
      this.phase = 'until-close';
      this.reusable = false;
    }
    return true;
  }
}
