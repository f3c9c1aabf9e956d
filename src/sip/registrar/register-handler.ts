/**
 * One REGISTER, start to answer (RFC 3261 §10.3): ban check, tenant by To domain, digest
 * authentication (RFC 3261 §22.4, RFC 7616, RFC 8760), the binding plan, write-through, and the
 * 200 listing the AOR's bindings. Lookups are cached and bindings live in memory, so the only
 * wait is the group commit of the bindings that changed.
 */
import type Srf from 'drachtio-srf';
import type { EventEnvelope } from '../../events/envelope.js';
import { uuid } from '../../shared/ids.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { BanList } from './ban-list.js';
import type { BindingWriter } from './binding-writer.js';
import { planRegister, type ContactInput, type Flow, type PlanOptions } from './binding-update.js';
import { formatChallenges, type DigestAlgorithm } from './digest.js';
import type { DirectoryCache } from './directory-cache.js';
import type { Binding, LocationService } from './location.js';
import { NonceCountTracker, NonceSigner } from './nonce.js';
import type { LiveBindingCount, RegistrationEventSink } from './registration-events.js';
import { parseSipUri } from './register-request.js';
import { dummyCredentials, verifyDigest, type VerifyFailure } from './verify.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;

/** A source banned for repeated authentication failures (reliability R7: log, later WS/webhook). */
export interface BanEvent {
  source: string;
  failures: number;
  /** When the ban ends, ms since the epoch. */
  until: number;
}

/** What changed for one AOR; `bindings` are all its bindings afterwards. */
export interface BindingChange {
  tenantId: string;
  extensionId: string;
  aor: string;
  bindings: Binding[];
}

export interface HandlerDeps {
  log: Logger;
  clock: Clock;
  nonceSecret: Buffer | string;
  defaultTenantId: string;
  directory: DirectoryCache;
  location: LocationService;
  writer: BindingWriter;
  plan: Omit<PlanOptions, 'now' | 'newId'>;
  challengeAlgorithms: readonly DigestAlgorithm[];
  banList: BanList | undefined;
  onBan: (ban: BanEvent) => void;
  onBindingChange: (change: BindingChange) => void;
  /** Bindings removed by this request (unregister, replaced instance, eviction). */
  onRemoved: (removed: Binding[]) => void;
  /** Brings memory in line with removals made through the API; awaited before planning. */
  resync: () => Promise<void>;
  /** registration.created/expired, committed with the binding changes. */
  events?: RegistrationEventSink;
}

/**
 * Failures that count towards a ban: a request that carried credentials and got them wrong. The
 * first REGISTER without credentials (`missing`) is the normal challenge round; `stale` and
 * `replay` had a right password on an old or reused nonce, which a legitimate phone does.
 */
const notCounted: ReadonlySet<VerifyFailure> = new Set(['missing', 'stale', 'replay']);

/**
 * The Date header's value (RFC 3261 §20.17, whole seconds): formatted once per second rather than
 * per response, since every REGISTER is answered with one.
 */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
let dateSecond = NaN;
let dateText = '';

export function send(res: Res, status: number, headers: Record<string, string | string[]>): void {
  try {
    res.send(status, { headers: { Date: httpDate(), ...headers } });
  } catch {
    // the transaction is gone; nothing to answer
  }
}

/** RFC 5626 `+sip.instance` of a Contact (quotes and angle brackets removed), with its reg-id. */
function instanceOf(params: Record<string, unknown> | undefined): string | null {
  const raw = params?.['+sip.instance'];
  if (typeof raw !== 'string' || raw === '') return null;
  const value = raw.replace(/^"|"$/g, '').replace(/^<|>$/g, '');
  const regId = params?.['reg-id'];
  return regId === undefined || regId === null ? value : `${value};reg-id=${String(regId)}`;
}

/** A request's header values by lowercase name. */
type HeaderLookup = (lowercaseName: string) => string | undefined;

/**
 * The request's headers by lowercase name, read in one pass. Each srf `req.get`/`req.has`
 * normalises the name (reading process.env on every call) and scans all header names
 * case-insensitively; a REGISTER made eleven such calls. The answers are the same: the value of
 * the first header whose name matches case-insensitively, undefined when there is none.
 */
function headersOf(req: Req): HeaderLookup {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase();
    if (!byName.has(lower)) byName.set(lower, value);
  }
  return (lowercaseName) => byName.get(lowercaseName);
}

/** The flow a request came in on; stream transports name the engine connection they used. */
function flowOf(req: Req): Flow {
  const transport = (req.protocol || 'udp').toLowerCase();
  const sourcePort = Number(req.source_port);
  // The engine sends no connection id (drachtio-protocol §3.2): a stream connection is identified
  // by its remote address and port, which is what the engine looks up to reuse it.
  const connectionId = transport === 'udp' ? null : `${transport}/${req.source_address}:${sourcePort}`;
  return { transport, sourceAddress: req.source_address, sourcePort, connectionId };
}

export class RegisterHandler {
  private readonly signer: NonceSigner;
  private readonly counts = new NonceCountTracker();
  /** Dummy HA1s per realm, computed once: an unknown user then costs what a known one does (R6). */
  private readonly dummies = new Map<string, ReturnType<typeof dummyCredentials>>();

  constructor(private readonly d: HandlerDeps) {
    this.signer = new NonceSigner({ secret: d.nonceSecret, clock: d.clock });
  }

  async handle(req: Req, res: Res): Promise<void> {
    const { d } = this;
    const source = req.source_address;
    if (d.banList?.isBanned(source)) return;
    const header = headersOf(req);
    const aor = parseSipUri(header('to'));
    if (!aor || aor.user === '') return send(res, 400, {});
    const tenant = await d.directory.tenantFor(aor.host, d.defaultTenantId);
    if (!tenant) return send(res, 404, {});
    const found = await d.directory.credentialsOf(tenant.id, aor.user);
    const known = found?.status === 'active' ? found : undefined;
    const result = verifyDigest({
      authorization: header('authorization'),
      method: 'REGISTER',
      requestUri: req.uri,
      realm: tenant.realm,
      expectedUser: aor.user,
      // Unknown users are checked against dummy credentials: same work, same answer (R6).
      credentials: known ?? this.dummy(tenant.realm),
      nonces: { signer: this.signer, counts: this.counts },
      binding: source,
    });
    if (!result.ok) {
      if (!notCounted.has(result.reason) && d.banList?.recordFailure(source)) {
        d.onBan({ source, failures: d.banList.maxFailures, until: d.banList.bannedUntil(source) ?? d.clock.now() });
      }
      if (result.reason === 'wrong-user') return send(res, 403, {});
      const stale = result.reason === 'stale' || result.reason === 'replay';
      const nonce = this.signer.issue(tenant.realm, source);
      return send(res, 401, { 'WWW-Authenticate': formatChallenges({ realm: tenant.realm, nonce, stale }, d.challengeAlgorithms) });
    }
    if (!known) return send(res, 403, {});
    d.banList?.recordSuccess(source);
    await this.bind(req, res, header, tenant.id, known.extensionId, `sip:${aor.user}@${aor.host}`);
  }

  private dummy(realm: string): ReturnType<typeof dummyCredentials> {
    let c = this.dummies.get(realm);
    if (!c) {
      if (this.dummies.size >= 10_000) this.dummies.clear();
      this.dummies.set(realm, (c = dummyCredentials(realm)));
    }
    return c;
  }

  private async bind(req: Req, res: Res, header: HeaderLookup, tenantId: string, extensionId: string, aor: string): Promise<void> {
    const { d } = this;
    await d.resync();
    const rawContact = (header('contact') ?? '').trim();
    let contacts: ContactInput[] | '*' = [];
    if (rawContact === '*') contacts = '*';
    else if (rawContact !== '') {
      contacts = req.getParsedHeader('Contact').map((c) => {
        const expires = c.params?.expires as string | number | undefined;
        return { uri: c.uri, expires: expires === undefined ? undefined : String(expires), instance: instanceOf(c.params) };
      });
    }
    const now = d.clock.now();
    // What was live before this request: only bindings new to it are "created", only those it ends "expired".
    const liveBefore = d.events ? new Set(d.location.all(extensionId).filter((b) => b.expiresAtMs > now).map((b) => b.contactUri)) : undefined;
    const plan = planRegister(
      d.location.all(extensionId),
      {
        contacts,
        expiresHeader: header('expires'),
        // `as string`: as srf's req.get returned it (the engine rejects a REGISTER without one).
        callId: header('call-id') as string,
        cseq: Number.parseInt(header('cseq') as string, 10) || 0,
        flow: flowOf(req),
        userAgent: header('user-agent') ?? null,
        tenantId,
        extensionId,
        aor,
      },
      { ...d.plan, now, newId: uuid },
    );
    if (!plan.ok) return send(res, plan.code, plan.headers);
    // Memory first, synchronously, so a REGISTER racing this one plans against the new state.
    for (const b of plan.removed) d.location.delete(b.extensionId, b.contactUri);
    for (const b of plan.set) d.location.set(b);
    if (plan.removed.length > 0) d.onRemoved(plan.removed);
    const events = d.events && liveBefore ? await bindingEvents(d.events, liveBefore, plan.set, plan.removed, contacts) : [];
    // The 200 goes out only once the change is durable (write-through). A failed write (the
    // extension was deleted meanwhile) answers 500 and takes the new bindings out of memory again.
    try {
      await d.writer.write(plan.changes, events);
    } catch (err) {
      for (const b of plan.set) if (d.location.all(extensionId).some((x) => x === b)) d.location.delete(b.extensionId, b.contactUri);
      throw err;
    }
    if (plan.set.length > 0 || plan.removed.length > 0) d.onBindingChange({ tenantId, extensionId, aor, bindings: plan.bindings });
    const contactsOut = plan.bindings.map((b) => `<${b.contactUri}>;expires=${Math.max(0, Math.round((b.expiresAtMs - now) / 1000))}`);
    send(res, 200, contactsOut.length > 0 ? { Contact: contactsOut.join(', ') } : {});
  }
}

/**
 * The events of one REGISTER: a binding new to the extension is created; a live one it ends is
 * `unregistered` when the request named it (Expires 0, `*`), else `removed` (replaced instance,
 * too many contacts). Refreshes make none, so a phone re-registering every minute is no event.
 */
async function bindingEvents(
  sink: RegistrationEventSink,
  liveBefore: ReadonlySet<string>,
  set: readonly Binding[],
  removed: readonly Binding[],
  contacts: ContactInput[] | '*',
): Promise<EventEnvelope[]> {
  const named = contacts === '*' ? undefined : new Set(contacts.map((c) => c.uri));
  const ended = removed.filter((b) => liveBefore.has(b.contactUri));
  const created = set.filter((b) => !liveBefore.has(b.contactUri));
  const unregistered = ended.filter((b) => named === undefined || named.has(b.contactUri));
  // New ones first, so a phone replacing its only binding stays registered rather than flapping.
  const count = (n: number): LiveBindingCount => () => n;
  const afterCreated = liveBefore.size + created.length;
  return [
    ...(await sink.created(created, count(liveBefore.size))),
    ...(await sink.ended(unregistered, 'unregistered', count(afterCreated))),
    ...(await sink.ended(ended.filter((b) => named !== undefined && !named.has(b.contactUri)), 'removed', count(afterCreated - unregistered.length))),
  ];
}
