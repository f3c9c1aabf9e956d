/**
 * Who is calling: the caller must prove to be an extension of the tenant with digest credentials
 * in Proxy-Authorization (RFC 3261 §22.3: a 407 challenge from a proxy-like element), verified by
 * the registrar's machinery (same nonces, same dummy credentials so an unknown number costs and
 * answers exactly like a wrong password).
 */
import type { Clock } from '../../shared/clock.js';
import type { DigestCredentials, Tenant } from '../../store/index.js';
import { formatChallenges, type DigestAlgorithm } from '../registrar/digest.js';
import type { DirectoryCache } from '../registrar/directory-cache.js';
import { parseDigestCredentials } from '../registrar/digest-parse.js';
import { NonceCountTracker, NonceSigner } from '../registrar/nonce.js';
import { digestUriMatches } from '../registrar/uri-match.js';
import { parseSipUri } from '../registrar/register-request.js';
import { dummyCredentials, verifyDigest } from '../registrar/verify.js';

export type CallerAuth =
  | { ok: true; tenant: Tenant; caller: DigestCredentials }
  | { ok: false; status: 400 | 403 | 404 | 407; headers: Record<string, string | string[]>; reason: string };

export interface InviteAuthOptions {
  clock: Clock;
  nonceSecret: Buffer | string;
  defaultTenantId: string;
  directory: DirectoryCache;
  challengeAlgorithms: readonly DigestAlgorithm[];
}

export class InviteAuthenticator {
  private readonly signer: NonceSigner;
  private readonly counts = new NonceCountTracker();

  constructor(private readonly o: InviteAuthOptions) {
    this.signer = new NonceSigner({ secret: o.nonceSecret, clock: o.clock });
  }

  async authenticate(req: { from: string | undefined; requestUri: string; proxyAuthorization: string | undefined; source: string }): Promise<CallerAuth> {
    const from = parseSipUri(req.from);
    if (!from || from.user === '') return { ok: false, status: 400, headers: {}, reason: 'no From user' };
    const tenant = await this.o.directory.tenantFor(from.host, this.o.defaultTenantId);
    if (!tenant) return { ok: false, status: 404, headers: {}, reason: 'no tenant' };
    const found = await this.o.directory.credentialsOf(tenant.id, from.user);
    const known = found?.status === 'active' ? found : undefined;
    const result = verifyDigest({
      authorization: req.proxyAuthorization,
      method: 'INVITE',
      requestUri: digestTarget(req.proxyAuthorization, req.requestUri),
      realm: tenant.realm,
      expectedUser: from.user,
      credentials: known ?? dummyCredentials(tenant.realm),
      nonces: { signer: this.signer, counts: this.counts },
      binding: req.source,
    });
    if (!result.ok) {
      if (result.reason === 'wrong-user') return { ok: false, status: 403, headers: {}, reason: result.reason };
      const stale = result.reason === 'stale' || result.reason === 'replay';
      const nonce = this.signer.issue(tenant.realm, req.source);
      return { ok: false, status: 407, headers: { 'Proxy-Authenticate': formatChallenges({ realm: tenant.realm, nonce, stale }, this.o.challengeAlgorithms) }, reason: result.reason };
    }
    if (!known) return { ok: false, status: 403, headers: {}, reason: 'unknown caller' };
    return { ok: true, tenant, caller: known };
  }
}

/**
 * The URI the credentials must name: the Request-URI (RFC 7616 §3.4.6), or the same URI without its
 * user part, i.e. this server itself. Some UAs (SIPp among them) sign an INVITE for the server
 * they send it to rather than for the callee; the response is still bound to this server, to the
 * method, and to a nonce whose count only rises, so the callee adds nothing a replay could exploit.
 */
export function digestTarget(authorization: string | undefined, requestUri: string): string {
  const uri = authorization === undefined ? undefined : parseDigestCredentials(authorization)?.get('uri');
  if (uri === undefined) return requestUri;
  const serverUri = requestUri.replace(/^(sips?:)[^@;?]*@/i, '$1');
  return serverUri !== requestUri && digestUriMatches(uri, serverUri) ? serverUri : requestUri;
}
