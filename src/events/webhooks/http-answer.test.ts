/**
 * The delivery connection's answer reader: how a receiver's answer is framed decides whether the
 * kept-alive connection can carry the next event, so anything uncertain must close it.
 */
import { describe, expect, it } from 'vitest';
import { HttpAnswer, type AnswerState } from './http-answer.js';

/** Feeds `text` in pieces of `size` bytes (1: every byte on its own); the states after each piece. */
function read(text: string, size = Infinity, limit = 1024): { answer: HttpAnswer; states: AnswerState[] } {
  const answer = new HttpAnswer(limit);
  const bytes = Buffer.from(text, 'latin1');
  const states: AnswerState[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) {
    const s = answer.feed(bytes.subarray(i, i + Math.min(size, bytes.length)));
    states.push(s);
    if (s !== 'more') break;
  }
  return { answer, states };
}

describe('HttpAnswer', () => {
  it('reads a content-length answer whole or a byte at a time, and keeps the connection', () => {
    for (const size of [Infinity, 1, 7]) {
      const { answer, states } = read('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello', size);
      expect(states.at(-1)).toBe('complete');
      expect(states.slice(0, -1).every((s) => s === 'more')).toBe(true);
      expect({ status: answer.statusCode, body: answer.excerpt(), reusable: answer.reusable }).toEqual({ status: 200, body: 'hello', reusable: true });
    }
  });

  it('decodes a chunked body (extensions, trailers) in any split', () => {
    const text = 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\ndown\r\n5\r\n for \r\nb\r\nmaintenance\r\n0\r\nX-Trailer: 1\r\n\r\n';
    for (const size of [Infinity, 1, 3, 16]) {
      const { answer, states } = read(text, size);
      expect(states.at(-1)).toBe('complete');
      expect(answer.statusCode).toBe(503);
      expect(answer.excerpt()).toBe('down for maintenance');
      expect(answer.reusable).toBe(true);
    }
  });

  it('skips 1xx answers and reads the final one', () => {
    const { answer, states } = read('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', 5);
    expect(states.at(-1)).toBe('complete');
    expect(answer.statusCode).toBe(204);
    expect(answer.excerpt()).toBe('');
  });

  it('a 204 or 304 has no body whatever its content-length says', () => {
    expect(read('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n').states).toEqual(['complete']);
    expect(read('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').states).toEqual(['complete']);
  });

  it('does not reuse the connection after Connection: close, an HTTP/1.0 answer, both framings, or unasked-for bytes', () => {
    expect(read('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').answer.reusable).toBe(false);
    expect(read('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').answer.reusable).toBe(false);
    expect(read('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n').answer.reusable).toBe(true);
    const both = read('HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect({ state: both.states.at(-1), body: both.answer.excerpt(), reusable: both.answer.reusable }).toEqual({ state: 'complete', body: 'ok', reusable: false });
    const extra = read('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n');
    expect({ state: extra.states.at(-1), reusable: extra.answer.reusable }).toEqual({ state: 'complete', reusable: false });
  });

  it('an answer with no length is framed by the end of the connection', () => {
    for (const head of ['HTTP/1.1 200 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n']) {
      const { answer, states } = read(`${head}partial`);
      expect(states).toEqual(['more']);
      expect(answer.endOfStream()).toBe(true);
      expect(answer.excerpt()).toBe('partial');
      expect(answer.reusable).toBe(false);
    }
    // A body with a length that stops short is not complete at the end of the connection.
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc').answer.endOfStream()).toBe(false);
  });

  it('keeps only the first `limit` bytes and says so while the body goes on', () => {
    const { answer, states } = read(`HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(2000)}`, 100, 1024);
    expect(states.at(-1)).toBe('excerpt');
    expect(answer.excerpt()).toHaveLength(1024);
    // A body of exactly the limit, all there, is complete.
    expect(read(`HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n${'y'.repeat(1024)}`).states).toEqual(['complete']);
  });

  it('refuses what it cannot frame with certainty', () => {
    const cases: Array<[string, string]> = [
      ['HTTP/2 200\r\n\r\n', 'bad status line'],
      ['ICY 200 OK\r\n\r\n', 'bad status line'],
      ['HTTP/1.1 20 OK\r\n\r\n', 'bad status line'],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', 'unexpected 101 Switching Protocols'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', 'bad content-length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'bad content-length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', 'bad content-length'],
      ['HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok', 'bad header line'],
      ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n', 'bad header line'],
      ['HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'bad header line'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'bad chunk size'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n', 'chunk not followed by CRLF'],
      [`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(17 * 1024)}`, 'answer head larger than 16 KB'],
    ];
    for (const [text, problem] of cases) {
      const { answer, states } = read(text, 4096);
      expect({ text: text.slice(0, 60), state: states.at(-1), problem: answer.problem, reusable: answer.reusable }).toEqual({ text: text.slice(0, 60), state: 'malformed', problem, reusable: false });
    }
    // Identical repeated lengths are one length (RFC 9110 §8.6).
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok').states).toEqual(['complete']);
  });
});
