import { RESERVED_HEADER_NAMES } from './signing.js';

export const MAX_CUSTOM_HEADERS = 20;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/**
 * Problems with a webhook's custom headers, one message per header: names must be HTTP tokens
 * (RFC 9110 §5.1) that do not override a signature, identity or framing header (`x-webhook-*` and
 * `webhook-*` are reserved as a whole, for headers we may add later); values printable, without
 * CR, LF or NUL (header injection), at most 1024 characters.
 */
export function customHeaderProblems(headers: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) problems.push(`at most ${MAX_CUSTOM_HEADERS} custom headers`);
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    const value = headers[name] ?? '';
    if (!TOKEN.test(name)) problems.push(`"${name.slice(0, 64)}" is not a valid header name`);
    else if (RESERVED_HEADER_NAMES.has(lower) || lower.startsWith('x-webhook-') || lower.startsWith('webhook-')) problems.push(`"${name}" is set by Switchboard and cannot be overridden`);
    else if (seen.has(lower)) problems.push(`"${name}" is given twice (header names are case-insensitive)`);
    seen.add(lower);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) problems.push(`"${name.slice(0, 64)}": value must not contain CR, LF or NUL`);
    else if (value.length > 1024 || !/^[\t\x20-\x7e]*$/.test(value)) problems.push(`"${name.slice(0, 64)}": value must be printable ASCII, at most 1024 characters`);
  }
  return problems;
}
