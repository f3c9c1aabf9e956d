import { canonicalName, displayName } from '../message/headers.js';
import type { SipHeader, SipMessage } from '../message/types.js';

/**
 * Parsing of the SIP text that drachtio-srf sends in a `sip` or `proxy` command
 * (drachtio-protocol §3.1, §5). It is not wire input: srf writes Content-Length in UTF-16 units,
 * header names in any case, and apps may add odd lines, so this parser is lenient where the
 * network parser is strict: the body is everything after the blank line, lines without a colon
 * or with a non-token name are dropped, and names are matched case-insensitively.
 */
export function parseAppMessage(text: string, preserveNames: ReadonlySet<string> = noNames): SipMessage | undefined {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const bodyText = split < 0 ? '' : text.slice(split + 4);
  const lines = head.split(/\r?\n/);
  const start = (lines.shift() ?? '').trim();
  const headers = parseAppHeaderLines(lines, preserveNames);
  const body = Buffer.from(bodyText, 'utf8');

  const status = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(start);
  if (status) {
    return { type: 'response', status: Number(status[1]), reason: status[2] ?? '', headers, body };
  }
  const req = /^([A-Za-z0-9.!%*_+`'~-]+)\s+(\S+)\s+SIP\/2\.0$/i.exec(start);
  if (req) return { type: 'request', method: req[1]!.toUpperCase(), uri: req[2]!, headers, body };
  return undefined;
}

const tokenName = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** Header lines as the app wrote them (unfolded), in order, with the §5 spelling rules applied. */
export function parseAppHeaderLines(lines: string[], preserveNames: ReadonlySet<string> = noNames): SipHeader[] {
  const unfolded: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && unfolded.length > 0) {
      unfolded[unfolded.length - 1] += ' ' + line.trim();
    } else if (line.length > 0) unfolded.push(line);
  }
  const out: SipHeader[] = [];
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim();
    if (!tokenName.test(rawName)) continue;
    const value = line.slice(colon + 1).trim();
    const name = canonicalName(rawName.includes('_') ? rawName.replace(/_/g, '-') : rawName);
    out.push({ name, rawName: wireSpelling(rawName, name, preserveNames), value });
  }
  return out;
}

const noNames: ReadonlySet<string> = new Set();

/**
 * How a header name written by the app goes on the wire (drachtio-protocol §5): Title-Cased after
 * each dash, except `X-` headers and names listed in DRACHTIO_PRESERVE_HEADER_NAMES, which keep the
 * app's spelling.
 */
function wireSpelling(rawName: string, name: string, preserved: ReadonlySet<string>): string {
  if (/^x-/i.test(rawName) || preserved.has(name)) return rawName;
  return displayName(name);
}

/** Headers the server always generates itself; app copies are discarded (drachtio-protocol §5). */
export const serverOwnedHeaders: ReadonlySet<string> = new Set([
  'via',
  'route',
  'record-route',
  'rseq',
  'content-length',
]);
