/**
 * Comparison of the `uri` parameter of digest credentials with the Request-URI (RFC 7616 §3.4.6,
 * RFC 3261 §22.4: the server checks they identify the same resource). SIP URIs are compared
 * component-wise in the spirit of RFC 3261 §19.1.4.
 */

interface SipUriParts {
  scheme: string;
  userinfo: string;
  host: string;
  port: string;
  params: string[];
  headers: string;
}

/** Split a `sip:`/`sips:` URI; undefined for other schemes or malformed input. */
function splitSipUri(uri: string): SipUriParts | undefined {
  const m = /^(sips?):(?:([^@]*)@)?(\[[^\]]+\]|[^:;?]+)(?::(\d+))?((?:;[^?]*)?)(?:\?(.*))?$/i.exec(
    uri.trim(),
  );
  if (!m) return undefined;
  const [, scheme = '', userinfo = '', host = '', port = '', paramStr = '', headers = ''] = m;
  const params = paramStr
    .split(';')
    .filter((p) => p.length > 0)
    .map((p) => p.toLowerCase())
    .sort();
  return { scheme: scheme.toLowerCase(), userinfo, host: host.toLowerCase(), port, params, headers };
}

/**
 * True when `digestUri` and `requestUri` name the same resource: for SIP URIs, scheme and host
 * compare case-insensitively, user info and port exactly (an omitted port differs from an explicit
 * one, RFC 3261 §19.1.4), URI parameters in any order and case, headers exactly. Other URIs must
 * be equal apart from the case of the scheme.
 */
export function digestUriMatches(digestUri: string, requestUri: string): boolean {
  const a = splitSipUri(digestUri);
  const b = splitSipUri(requestUri);
  if (a && b) {
    return (
      a.scheme === b.scheme &&
      a.userinfo === b.userinfo &&
      a.host === b.host &&
      a.port === b.port &&
      a.headers === b.headers &&
      a.params.length === b.params.length &&
      a.params.every((p, i) => p === b.params[i])
    );
  }
  if (a || b) return false;
  return lowerScheme(digestUri.trim()) === lowerScheme(requestUri.trim());
}

function lowerScheme(uri: string): string {
  const colon = uri.indexOf(':');
  return colon > 0 ? uri.slice(0, colon).toLowerCase() + uri.slice(colon) : uri;
}
