import { describe, expect, it } from 'vitest';
import { loadRfc4475, rfc4475Case, type TortureCase } from '../../../test/fixtures/rfc4475.js';
import { getHeader, getHeaderLines, getHeaderValues } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import { parseMessage } from './parse.js';
import type { SipMessage, SipRequest } from './types.js';
import { isSipUri, parseUri, unescapeUriPart } from './uri.js';
import { defaultValidationPolicy, validateRequest } from './validate.js';
import { parseVia } from './via.js';

/** Parser-level verdict: a status to send statelessly, 'drop' (no output), or 'pass' (on to the app). */
function verdict(c: TortureCase): { kind: 'status'; status: number } | { kind: 'drop' } | { kind: 'pass'; req: SipRequest } {
  const r = parseMessage(c.data);
  if (r.kind === 'error') return r.isResponse ? { kind: 'drop' } : { kind: 'status', status: r.status };
  if (r.message.type === 'response') return { kind: 'drop' };
  const reject = validateRequest(r.message, defaultValidationPolicy);
  return reject ? { kind: 'status', status: reject.status } : { kind: 'pass', req: r.message };
}

function parsed(file: string): { message: SipMessage; trailing: number } {
  const r = parseMessage(rfc4475Case(file).data);
  if (r.kind !== 'message') throw new Error(`${file} did not parse: ${r.status} ${r.reason}`);
  return r;
}

function request(file: string): SipRequest {
  const m = parsed(file).message;
  if (m.type !== 'request') throw new Error(`${file} is not a request`);
  return m;
}

const statelessCodes = new Set([400, 505, 501, 416, 420]);
const cases = loadRfc4475();

describe('RFC 4475 torture messages: parser + validator verdicts', () => {
  it('has all 49 messages', () => {
    expect(cases).toHaveLength(49);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const v = verdict(c);
    if (typeof c.expect === 'number' && statelessCodes.has(c.expect)) {
      expect(v).toEqual({ kind: 'status', status: c.expect });
    } else if (c.expect === 'drop') {
      expect(v.kind).toBe('drop');
    } else {
      // 'handle' and 200/401/406/415 are decisions the application makes after the parser
      expect(v.kind).toBe('pass');
    }
  });
});

describe('RFC 4475 semantic details', () => {
  it('escnull: two distinct Contact bindings, %00 not truncated (§3.1.1.4)', () => {
    const req = request('escnull.dat');
    const contacts = getHeaderValues(req, 'contact').map((v) => parseNameAddr(v)?.uri);
    expect(contacts).toEqual(['sip:%00@host5.example.com', 'sip:%00%00@host5.example.com']);
    const users = contacts.map((u) => {
      const p = parseUri(u ?? '');
      return isSipUri(p) ? unescapeUriPart(p.user ?? '') : undefined;
    });
    expect(users).toEqual(['\0', '\0\0']);
    const to = parseUri(parseNameAddr(getHeader(req, 'to') ?? '')?.uri ?? '');
    expect(isSipUri(to) && unescapeUriPart(to.user ?? '')).toBe('null-\0-null');
  });

  it('esc02: method is not REGISTER and there are 2 Contacts, not 3 (§3.1.1.5)', () => {
    const req = request('esc02.dat');
    expect(req.method).toBe('RE%47IST%45R');
    expect(getHeaderValues(req, 'contact')).toHaveLength(2);
    expect(req.headers.some((h) => h.rawName === 'C%6Fntact' && h.name === 'c%6fntact')).toBe(true);
  });

  it('semiuri: user part is user;par=u@example.net (§3.1.1.9)', () => {
    const uri = parseUri(request('semiuri.dat').uri);
    expect(isSipUri(uri)).toBe(true);
    if (!isSipUri(uri)) return;
    expect(uri.user).toBe('user;par=u%40example.net');
    expect(unescapeUriPart(uri.user ?? '')).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params.size).toBe(0);
  });

  it('cparam01: unknownparam is a contact (header) parameter (§3.3.12)', () => {
    const na = parseNameAddr(getHeader(request('cparam01.dat'), 'contact') ?? '');
    expect(na?.uri).toBe('sip:+19725552222@gw1.example.net');
    expect(na?.params.get('unknownparam')).toBeNull();
    const uri = parseUri(na?.uri ?? '');
    expect(isSipUri(uri) && uri.params.size).toBe(0);
  });

  it('cparam02: unknownparam stays a URI parameter (§3.3.13)', () => {
    const na = parseNameAddr(getHeader(request('cparam02.dat'), 'contact') ?? '');
    expect(na?.params.size).toBe(0);
    const uri = parseUri(na?.uri ?? '');
    expect(isSipUri(uri) && uri.params.get('unknownparam')).toBeNull();
  });

  it('regescrt: the binding keeps the escaped Route inside the contact URI (§3.3.14)', () => {
    const na = parseNameAddr(getHeader(request('regescrt.dat'), 'contact') ?? '');
    expect(na?.uri).toBe('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
    const uri = parseUri(na?.uri ?? '');
    expect(isSipUri(uri) && uri.headers.get('Route')).toBe('%3Csip:sip.example.com%3E');
  });

  it('longreq: 34 Via values, long header names and values (§3.1.1.7)', () => {
    const req = request('longreq.dat');
    expect(getHeaderValues(req, 'via')).toHaveLength(34);
    expect(getHeaderLines(req, 'via').flatMap((l) => parseVia(l) ?? [])).toHaveLength(34);
    expect(rfc4475Case('longreq.dat').data.length).toBe(3515);
  });

  it('mpart01: binary body exactly Content-Length long with NULs intact (§3.1.1.11)', () => {
    const req = request('mpart01.dat');
    expect(req.body.length).toBe(Number(getHeader(req, 'content-length')));
    expect(req.body.includes(0)).toBe(true);
    const data = rfc4475Case('mpart01.dat').data;
    expect(req.body.equals(data.subarray(data.length - req.body.length))).toBe(true);
  });

  it('dblreq: the REGISTER is parsed and the trailing INVITE bytes are reported (§3.1.1.8)', () => {
    const { message, trailing } = parsed('dblreq.dat');
    expect(message.type === 'request' && message.method).toBe('REGISTER');
    expect(message.body.length).toBe(0);
    const data = rfc4475Case('dblreq.dat').data;
    expect(trailing).toBeGreaterThan(0);
    expect(data.subarray(data.length - trailing).toString('latin1')).toMatch(/^\r\nINVITE sip:joe@example.com/);
  });

  it('transports: Via transports UDP, SCTP, TLS, UNKNOWN, TCP (§3.1.1.10)', () => {
    const vias = getHeaderLines(request('transports.dat'), 'via').flatMap((l) => parseVia(l) ?? []);
    expect(vias.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('wsinv: folding, escaped quotes, leading zeros, LWS around separators (§3.1.1.1)', () => {
    const req = request('wsinv.dat');
    const from = parseNameAddr(getHeader(req, 'from') ?? '');
    expect(from?.displayName).toBe('J Rosenberg \\"');
    expect(from?.params.get('tag')).toBe('98asjd8');
    expect(parseNameAddr(getHeader(req, 'to') ?? '')?.params.get('tag')).toBe('1918181833n');
    expect(getHeader(req, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(getHeader(req, 'max-forwards')).toBe('0068');
    const vias = getHeaderLines(req, 'via').flatMap((l) => parseVia(l) ?? []);
    expect(vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    const contact = parseNameAddr(getHeader(req, 'contact') ?? '');
    expect(contact?.displayName).toBe('Quoted string ""');
    expect([...(contact?.params ?? [])]).toEqual([
      ['newparam', 'newvalue'],
      ['secondparam', null],
      ['q', '0.33'],
    ]);
    expect(req.body.length).toBe(150);
  });

  it('intmeth: unusual but valid characters everywhere (§3.1.1.2)', () => {
    const req = request('intmeth.dat');
    expect(req.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const to = parseNameAddr(getHeader(req, 'to') ?? '');
    expect(to?.displayName).toBe('BEL:\x07 NUL:\0 DEL:\x7f');
    const from = parseNameAddr(getHeader(req, 'from') ?? '');
    expect(from?.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(from?.params.get('tag')).toBe("_token~1'+`*%!-.");
    const ruri = parseUri(req.uri);
    expect(isSipUri(ruri) && [ruri.user, ruri.password, ruri.host]).toEqual([
      '1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*',
      "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
      'example.com',
    ]);
  });

  it('unreason and noreason: UTF-8 and empty reason phrases parse (§3.1.1.12–13)', () => {
    const u = parsed('unreason.dat').message;
    expect(u.type === 'response' && u.reason).toMatch(/^= 2\*\*3 \* 5\*\*2 но сто девяносто девять/);
    const n = parsed('noreason.dat').message;
    expect(n.type === 'response' && [n.status, n.reason]).toEqual([100, '']);
  });

  it('bext01: Unsupported lists the Require tags (§3.3.5)', () => {
    expect(validateRequest(request('bext01.dat'), defaultValidationPolicy)).toEqual({
      status: 420,
      reason: 'Bad Extension',
      headers: [['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither']],
    });
  });

  it('error verdicts keep enough of the request to answer statelessly', () => {
    for (const file of ['badvers.dat', 'clerr.dat', 'ncl.dat', 'mcl01.dat', 'lwsstart.dat', 'ltgtruri.dat']) {
      const r = parseMessage(rfc4475Case(file).data);
      expect(r.kind, file).toBe('error');
      if (r.kind !== 'error') continue;
      for (const h of ['via', 'from', 'to', 'call-id', 'cseq']) {
        expect(r.partial && getHeader(r.partial, h), `${file} ${h}`).toBeTruthy();
      }
    }
  });
});
