/**
 * The REGISTER handler (RFC 3261 §10.3) on drachtio-srf: tenant by domain, digest authentication
 * (RFC 3261 §22.4, RFC 7616, RFC 8760), binding updates written through to the store.
 */
import type Srf from 'drachtio-srf';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../obs/logger.js';
import {
  deleteRegistration,
  deleteRegistrationsOfExtension,
  findDigestCredentials,
  findTenant,
  findTenantBySipDomain,
  listRegistrations,
  upsertRegistration,
  type Db,
  type Registration,
} from '../../store/index.js';
import type { BanList } from './ban-list.js';
import { formatChallenges } from './digest.js';
import { NonceCountTracker, NonceSigner } from './nonce.js';
import { contactExpiry, parseSipUri, type ExpiryLimits } from './register-request.js';
import { dummyCredentials, verifyDigest } from './verify.js';

/** What a binding change reports to {@link RegistrarDeps.onBindingChange}. */
export interface BindingChange {
  tenantId: string;
  extensionId: string;
  aor: string;
  bindings: Registration[];
}

/** Dependencies of {@link registerRegistrar}. */
export interface RegistrarDeps {
  db: Db;
  log: Logger;
  /** A wall clock (`now()` = `Date.now()`): expiries are stored as wall-clock instants. */
  clock: Clock;
  /** HMAC key of the nonces (≥ 16 bytes), shared by every instance that verifies them. */
  nonceSecret: Buffer | string;
  /** Tenant of requests whose domain is no tenant's (e.g. the PBX's IP address). */
  defaultTenantId: string;
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  maxContacts?: number;
  /** Sources with too many failures get no answer at all (RFC 3261 §26.3.2.4). */
  banList?: BanList;
  onBindingChange?: (change: BindingChange) => void;
}

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;

/**
 * Answer REGISTER requests on `srf` (RFC 3261 §10.3): 401 with SHA-256 and MD5 challenges until
 * the credentials verify (unknown users are verified against dummy credentials so the answer is
 * the same, anti-enumeration), 403 when the credentials belong to another user than the AOR,
 * 423 with Min-Expires for too brief an expiry, otherwise the bindings are updated and the 200
 * lists all current ones. Banned sources are ignored.
 */
export function registerRegistrar(srf: Srf, deps: RegistrarDeps): void {
  const registrar = new Registrar(deps);
  srf.use('register', (req: Req, res: Res) => {
    registrar.handle(req, res).catch((err: unknown) => {
      deps.log.error({ err, callId: req.get('Call-ID') }, 'REGISTER failed');
      send(res, 500, {});
    });
  });
}

function send(res: Res, status: number, headers: Record<string, string | string[]>): void {
  try {
    res.send(status, { headers: { Date: new Date().toUTCString(), ...headers } });
  } catch {
    // the transaction is gone; nothing to answer
  }
}

class Registrar {
  private readonly signer: NonceSigner;
  private readonly counts = new NonceCountTracker();
  private readonly limits: ExpiryLimits;
  private readonly maxContacts: number;

  constructor(private readonly deps: RegistrarDeps) {
    this.signer = new NonceSigner({ secret: deps.nonceSecret, clock: deps.clock });
    this.limits = {
      minExpires: deps.minExpires ?? 60,
      maxExpires: deps.maxExpires ?? 3600,
      defaultExpires: deps.defaultExpires ?? 3600,
    };
    this.maxContacts = deps.maxContacts ?? 5;
  }

  async handle(req: Req, res: Res): Promise<void> {
    const { db, log, banList } = this.deps;
    const source = req.source_address;
    if (banList?.isBanned(source)) return;
    const aor = parseSipUri(req.get('To')) ?? undefined;
    if (!aor || aor.user === '') return send(res, 400, {});
    const tenant =
      (await findTenantBySipDomain(db, aor.host)) ?? (await findTenant(db, this.deps.defaultTenantId));
    if (!tenant) return send(res, 404, {});
    const found = await findDigestCredentials(db, tenant.id, aor.user);
    const known = found?.status === 'active' ? found : undefined;
    const result = verifyDigest({
      authorization: req.get('Authorization'),
      method: 'REGISTER',
      requestUri: req.uri,
      realm: tenant.realm,
      expectedUser: aor.user,
      credentials: known ?? dummyCredentials(tenant.realm),
      nonces: { signer: this.signer, counts: this.counts },
      binding: source,
    });
    if (!result.ok) {
      if (result.reason !== 'missing' && banList?.recordFailure(source)) {
        log.warn({ source }, 'security.ban: source banned after repeated REGISTER failures');
      }
      if (result.reason === 'wrong-user') return send(res, 403, {});
      const stale = result.reason === 'stale' || result.reason === 'replay';
      const challenges = formatChallenges({ realm: tenant.realm, nonce: this.signer.issue(tenant.realm, source), stale });
      return send(res, 401, { 'WWW-Authenticate': challenges });
    }
    if (!known) return send(res, 403, {});
    banList?.recordSuccess(source);
    const aorText = `sip:${aor.user}@${aor.host}`;
    const status = await this.update(req, tenant.id, known.extensionId, aorText);
    if (status !== undefined) return send(res, status.code, status.headers);
    const bindings = await this.bindings(tenant.id, known.extensionId);
    this.deps.onBindingChange?.({ tenantId: tenant.id, extensionId: known.extensionId, aor: aorText, bindings });
    const now = this.deps.clock.now();
    const contacts = bindings.map(
      (b) => `<${b.contactUri}>;expires=${Math.max(0, Math.round((Date.parse(b.expiresAt) - now) / 1000))}`,
    );
    send(res, 200, contacts.length > 0 ? { Contact: contacts.join(', ') } : {});
  }

  /** Apply the Contacts (RFC 3261 §10.3 steps 6–7); a status to answer instead of 200, if any. */
  private async update(
    req: Req,
    tenantId: string,
    extensionId: string,
    aor: string,
  ): Promise<{ code: number; headers: Record<string, string> } | undefined> {
    const { db, clock } = this.deps;
    const rawContact = req.get('Contact');
    const expiresHeader = req.has('Expires') ? req.get('Expires') : undefined;
    if (rawContact === undefined || rawContact.trim() === '') return undefined;
    if (rawContact.trim() === '*') {
      if (expiresHeader?.trim() !== '0') return { code: 400, headers: {} };
      await deleteRegistrationsOfExtension(db, extensionId);
      return undefined;
    }
    const contacts = req.getParsedHeader('Contact');
    const plan: Array<{ uri: string; seconds: number }> = [];
    for (const c of contacts) {
      const param = c.params?.expires as string | number | undefined;
      const e = contactExpiry(param === undefined ? undefined : String(param), expiresHeader, this.limits);
      if (e.kind === 'too-brief') return { code: 423, headers: { 'Min-Expires': String(this.limits.minExpires) } };
      plan.push({ uri: c.uri, seconds: e.kind === 'remove' ? 0 : e.seconds });
    }
    const cseq = Number.parseInt(req.get('CSeq'), 10) || 0;
    const now = clock.now();
    for (const { uri, seconds } of plan) {
      if (seconds === 0) {
        await deleteRegistration(db, extensionId, uri);
        continue;
      }
      await upsertRegistration(db, {
        tenantId,
        extensionId,
        aor,
        contactUri: uri,
        expiresAt: new Date(now + seconds * 1000).toISOString(),
        userAgent: req.has('User-Agent') ? req.get('User-Agent') : null,
        transport: req.protocol,
        sourceAddress: req.source_address,
        sourcePort: Number(req.source_port),
        connectionId: null,
        callId: req.get('Call-ID'),
        cseq,
        instanceId: null,
      });
    }
    await this.evict(tenantId, extensionId);
    return undefined;
  }

  /** Keep at most `maxContacts` bindings, dropping the least recently refreshed. */
  private async evict(tenantId: string, extensionId: string): Promise<void> {
    const all = await this.bindings(tenantId, extensionId);
    for (const old of all.slice(this.maxContacts)) await deleteRegistration(this.deps.db, extensionId, old.contactUri);
  }

  /** Live bindings of the extension, most recently refreshed first. */
  private async bindings(tenantId: string, extensionId: string): Promise<Registration[]> {
    const now = new Date(this.deps.clock.now()).toISOString();
    const page = await listRegistrations(this.deps.db, tenantId, { extensionId, now, limit: 100 });
    return page.items;
  }
}
