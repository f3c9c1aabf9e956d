import type { CallPartyInfo } from './ports.js';

/** A From header for a leg the PBX places, showing `party` (quotes in names escaped, RFC 3261 §25.1). */
export function fromHeader(party: CallPartyInfo, domain: string): string {
  const uri = `sip:${encodeURIComponent(party.number)}@${domain}`;
  return party.name ? `"${party.name.replace(/["\\]/g, (c) => `\\${c}`)}" <${uri}>` : `<${uri}>`;
}
