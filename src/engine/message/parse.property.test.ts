import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRfc4475 } from '../../../test/fixtures/rfc4475.js';
import { parseCSeq } from './cseq.js';
import { getHeaderValues } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import { parseMessage } from './parse.js';
import { stampReceived } from './received.js';
import { buildResponse } from './response.js';
import { serializeMessage } from './serialize.js';
import type { SipMessage } from './types.js';
import { parseUri } from './uri.js';
import { defaultValidationPolicy, validateRequest } from './validate.js';
import { parseVia } from './via.js';

/**
 * Robustness over random mutations of the RFC 4475 corpus: nothing in this folder may throw on
 * any input, outcomes are well-formed, and whatever parses survives a serialise/parse round trip.
 * (A longer, coverage-guided fuzz suite lives elsewhere; this one runs on every test run.)
 */
const corpus = loadRfc4475().map((c) => c.data);

const interesting = ['\r\n', '\r\n\r\n', ' ', '\t', ':', ';', ',', '"', '\\', '<', '>', '%', '@', '[', ']', '=', '\r', '\n', '\0',
  '\r\n ', 'Content-Length: 99999\r\n', 'l: -1\r\n', 'Via: SIP/2.0/UDP a;;\r\n', 'SIP/2.0 ', '\u00e9', '\u{1F600}'].map((s) =>
  Buffer.from(s, 'utf8'),
);

type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'insert'; at: number; what: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), what: fc.nat(interesting.length - 1) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
);

function mutate(data: Buffer, mutations: Mutation[]): Buffer {
  let d = data;
  for (const m of mutations) {
    const at = d.length === 0 ? 0 : m.at % d.length;
    switch (m.op) {
      case 'flip':
        d = Buffer.from(d);
        if (d.length > 0) d[at] = m.byte;
        break;
      case 'insert':
        d = Buffer.concat([d.subarray(0, at), interesting[m.what] ?? Buffer.alloc(0), d.subarray(at)]);
        break;
      case 'delete':
        d = Buffer.concat([d.subarray(0, at), d.subarray(at + m.len)]);
        break;
      case 'truncate':
        d = d.subarray(0, at);
        break;
      case 'duplicate':
        d = Buffer.concat([d.subarray(0, at + m.len), d.subarray(at)]);
        break;
    }
  }
  return d;
}

/** Run every structured view over a message; they must return, never throw. */
function exercise(m: SipMessage): void {
  for (const v of getHeaderValues(m, 'via')) parseVia(v);
  for (const name of ['from', 'to', 'contact', 'route', 'record-route']) {
    for (const v of getHeaderValues(m, name)) {
      const na = parseNameAddr(v);
      if (na) parseUri(na.uri);
    }
  }
  for (const v of getHeaderValues(m, 'cseq')) parseCSeq(v);
  if (m.type === 'request') {
    parseUri(m.uri);
    validateRequest(m, defaultValidationPolicy);
    buildResponse(m, 400, undefined, { toTag: 't' });
    stampReceived(m, { address: '127.0.0.1', port: 5060 });
    for (const v of m.headers.filter((h) => h.name === 'via').map((h) => h.value)) parseVia(v);
  }
}

describe('parseMessage robustness (fast-check over mutated RFC 4475 messages)', () => {
  it('never throws, returns well-formed outcomes, and round-trips what it parses', () => {
    fc.assert(
      fc.property(
        fc.nat(corpus.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (index, mutations, datagram) => {
          const data = mutate(corpus[index] ?? Buffer.alloc(0), mutations);
          const r = parseMessage(data, { datagram });
          if (r.kind === 'error') {
            expect(r.status).toBeGreaterThanOrEqual(400);
            if (r.partial) exercise(r.partial);
            return;
          }
          expect(r.trailing).toBeGreaterThanOrEqual(0);
          expect(r.message.body.length + r.trailing).toBeLessThanOrEqual(data.length);
          exercise(r.message);
          const again = parseMessage(serializeMessage(r.message), { maxMessageBytes: 1 << 20, maxLineLength: 1 << 20 });
          expect(again.kind).toBe('message');
          if (again.kind !== 'message') return;
          const strip = (m: SipMessage) => m.headers.filter((h) => h.name !== 'content-length').map((h) => [h.name, h.value]);
          expect(strip(again.message)).toEqual(strip(r.message));
          expect(again.message.body.equals(r.message.body)).toBe(true);
        },
      ),
      { numRuns: 20000 },
    );
  }, 120_000);

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const r = parseMessage(Buffer.from(bytes));
        if (r.kind === 'message') exercise(r.message);
      }),
      { numRuns: 2000 },
    );
  });
});
