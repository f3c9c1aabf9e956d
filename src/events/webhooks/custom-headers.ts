import { RESERVED_HEADER_NAMES } from './signing.js';

export const MAX_CUSTOM_HEADERS = 20;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/**
 * Problems with a webhook's custom headers, one per header (`header` names it; absent for the set
 * as a whole): names must be HTTP tokens (RFC 9110 §5.1) that do not override a signature,
 * identity or framing header (`x-webhook-*` and `webhook-*` are reserved as a whole, for headers we
 * may add later); values printable, without CR, LF or NUL (header injection), at most 1024
 * characters.
 */
export function customHeaderIssues(headers: Readonly<Record<string, string>>): Array<{ header?: string; message: string }> {
  const issues: Array<{ header?: string; message: string }> = [];
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) issues.push({ message: `at most ${MAX_CUSTOM_HEADERS} custom headers` });
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    const value = headers[name] ?? '';
    const header = name.slice(0, 64);
    if (!TOKEN.test(name)) issues.push({ header, message: `"${header}" is not a valid header name` });
    else if (RESERVED_HEADER_NAMES.has(lower) || lower.startsWith('x-webhook-') || lower.startsWith('webhook-')) issues.push({ header, message: `"${name}" is set by Switchboard and cannot be overridden` });
    else if (seen.has(lower)) issues.push({ header, message: `"${name}" is given twice (header names are case-insensitive)` });
    seen.add(lower);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) issues.push({ header, message: `"${header}": value must not contain CR, LF or NUL` });
    else if (value.length > 1024 || !/^[\t\x20-\x7e]*$/.test(value)) issues.push({ header, message: `"${header}": value must be printable ASCII, at most 1024 characters` });
  }
  return issues;
}

/** The messages of {@link customHeaderIssues}. */
export function customHeaderProblems(headers: Readonly<Record<string, string>>): string[] {
  return customHeaderIssues(headers).map((i) => i.message);
}
