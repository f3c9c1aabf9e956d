/**
 * A minimal drachtio-srf application playing registrar + UAS, the role RFC 4475's verdicts assume
 * (reliability-anchors §1.1). It decides from the request, never from which torture file it is:
 *
 * - REGISTER: an Authorization header of a scheme other than Digest → 401 with a Digest challenge
 *   (RFC 4475 §3.3.7: answer with a scheme we know); a To that is not a SIP/SIPS URI → 400
 *   (§3.3.4); otherwise the Contacts are stored as bindings of the To AOR and 200 lists them.
 *   The test domain needs no authentication, so a request without Authorization is accepted.
 * - INVITE: a body whose Content-Type is not application/sdp → 415 with Accept (RFC 3261 §21.4.13);
 *   an Accept that excludes application/sdp → 406 (§21.4.7), since our answer would be SDP; an
 *   INVITE without Contact → 486 (there is no remote target for a dialog, RFC 3261 §8.1.1.8; RFC
 *   2543 peers could omit it, and srf's createUAS cannot build a dialog without one); otherwise
 *   answered 200 with SDP through srf's createUAS, and the dialog ends on the caller's BYE
 *   (or, with `acceptCalls: false`, declined with 486: fuzzing must not leave dialogs whose ACK
 *   timeout would make the engine resolve and contact the made-up hosts in their Contacts).
 * - MESSAGE: 200 for text/plain or multipart/mixed bodies (RFC 3428 §7), 415 otherwise.
 * - OPTIONS: 200 with Allow and Accept.
 *
 * Contacts are parsed with the project's own name-addr parser: srf's header parser drops
 * parameters without a value (`;unknownparam`), which is exactly what RFC 4475 §3.3.12 checks.
 */
import Srf from 'drachtio-srf';
import { splitCommaList } from '../../src/engine/message/headers.js';
import { parseNameAddr } from '../../src/engine/message/name-addr.js';

/** One stored registration: the Contact URI exactly as sent and its header (contact) parameters. */
export interface Binding {
  uri: string;
  params: Map<string, string | null>;
  expires: number;
}

export interface RegistrarUasApp {
  srf: Srf;
  /** AOR (the To URI without parameters) → bindings. */
  bindings: Map<string, Binding[]>;
  /** Dialogs created by createUAS that have not ended yet. */
  openDialogs(): number;
  stop(): void;
}

type Handler = (req: Srf.SrfRequest, res: Srf.SrfResponse) => void;
/** The verb methods srf adds at run time (sip-methods), missing from its type declarations. */
interface VerbRoutes {
  register(h: Handler): void;
  invite(h: Handler): void;
  options(h: Handler): void;
  message(h: Handler): void;
}

const SUPPORTED_BODY = 'application/sdp';
const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, MESSAGE';
const DEFAULT_EXPIRES = 3600;

const localSdp = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

/** Media type of a Content-Type/Accept element, lower case, without parameters. */
function mediaType(v: string): string {
  return (v.split(';')[0] ?? '').trim().toLowerCase();
}

function acceptsSdp(accept: string): boolean {
  return splitCommaList(accept)
    .map(mediaType)
    .some((t) => t === SUPPORTED_BODY || t === 'application/*' || t === '*/*');
}

/** The AOR of a To value: its URI without parameters or headers, or undefined when not SIP/SIPS. */
function aorOf(to: string): string | undefined {
  const uri = parseNameAddr(to)?.uri;
  if (!uri || !/^sips?:/i.test(uri)) return undefined;
  return uri.split(/[;?]/)[0];
}

function register(app: RegistrarUasApp, req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  const auth = req.get('Authorization');
  if (auth !== undefined && !/^\s*digest\s/i.test(auth)) {
    return res.send(401, { headers: { 'WWW-Authenticate': `Digest realm="switchboard.test", nonce="${Date.now().toString(16)}", algorithm=MD5, qop="auth"` } });
  }
  const aor = aorOf(req.get('To') ?? '');
  if (!aor) return res.send(400, 'Bad Request', { headers: {} });
  const headerExpires = Number.parseInt(req.get('Expires') ?? '', 10);
  const defaultExpires = Number.isFinite(headerExpires) ? headerExpires : DEFAULT_EXPIRES;
  const contactValue = req.get('Contact');
  let current = app.bindings.get(aor) ?? [];
  if (contactValue !== undefined && contactValue.trim() === '*') {
    if (defaultExpires !== 0) return res.send(400, 'Bad Request', { headers: {} });
    current = [];
  } else if (contactValue !== undefined) {
    for (const value of splitCommaList(contactValue)) {
      const na = parseNameAddr(value);
      if (!na) return res.send(400, 'Bad Request', { headers: {} });
      const params = new Map(na.params);
      const exp = Number.parseInt(params.get('expires') ?? '', 10);
      params.delete('expires');
      const expires = Number.isFinite(exp) ? exp : defaultExpires;
      // RFC 3261 §10.3 step 7: one binding per contact URI; a re-registration replaces it.
      current = current.filter((b) => b.uri !== na.uri);
      if (expires > 0) current.push({ uri: na.uri, params, expires });
    }
  }
  if (current.length > 0) app.bindings.set(aor, current);
  else app.bindings.delete(aor);
  const contacts = current.map((b) => `<${b.uri}>;expires=${b.expires}`).join(', ');
  res.send(200, { headers: contacts ? { Contact: contacts } : {} });
}

function invite(srf: Srf, dialogs: Set<Srf.Dialog> | undefined, req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  const type = req.get('Content-Type');
  if (req.body && req.body.length > 0 && (type === undefined || mediaType(type) !== SUPPORTED_BODY)) {
    return res.send(415, { headers: { Accept: SUPPORTED_BODY } });
  }
  const accept = req.get('Accept');
  if (accept !== undefined && !acceptsSdp(accept)) {
    return res.send(406, { headers: { Accept: SUPPORTED_BODY, Warning: '399 switchboard.test "only application/sdp"' } });
  }
  if (!req.has('Contact') || !dialogs) return res.send(486);
  srf.createUAS(req, res, { localSdp }).then(
    (dialog) => {
      dialogs.add(dialog);
      dialog.on('destroy', () => dialogs.delete(dialog));
    },
    () => undefined, // the caller gave up (CANCEL) or the engine refused the answer
  );
}

function message(req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  const type = mediaType(req.get('Content-Type') ?? 'text/plain');
  if (type !== 'text/plain' && type !== 'multipart/mixed') return res.send(415, { headers: { Accept: 'text/plain, multipart/mixed' } });
  res.send(200);
}

/** Connects the app to an engine's admin port; resolves once srf reports the connection. */
export async function startRegistrarUasApp(opts: { port: number; secret: string; host?: string; acceptCalls?: boolean }): Promise<RegistrarUasApp> {
  const srf = new Srf();
  srf.on('error', () => undefined); // connection errors surface as a failed connect below
  const dialogs = new Set<Srf.Dialog>();
  const app: RegistrarUasApp = {
    srf,
    bindings: new Map(),
    openDialogs: () => dialogs.size,
    stop: () => {
      try {
        srf.disconnect();
      } catch {
        // already disconnected
      }
    },
  };
  const routes = srf as unknown as VerbRoutes;
  routes.register((req, res) => register(app, req, res));
  const acceptCalls = opts.acceptCalls ?? true;
  routes.invite((req, res) => invite(srf, acceptCalls ? dialogs : undefined, req, res));
  routes.message((req, res) => message(req, res));
  routes.options((_req, res) => res.send(200, { headers: { Allow: ALLOW, Accept: SUPPORTED_BODY } }));
  await new Promise<void>((resolve, reject) => {
    srf.once('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: opts.host ?? '127.0.0.1', port: opts.port, secret: opts.secret });
  });
  return app;
}
