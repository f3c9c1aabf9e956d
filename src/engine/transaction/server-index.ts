import type { SipRequest } from '../message/types.js';
import { mergeKey, requestIdentity, type IdentityError, type RequestIdentity } from './keys.js';
import { ServerInviteTransaction } from './server-invite.js';
import type { ServerNonInviteTransaction } from './server-non-invite.js';

export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

/**
 * The server transactions of a layer and the three ways requests find them:
 * - by transaction key (§17.2.3, RFC 2543 fallback with its To-tag rule);
 * - by From tag + Call-ID + CSeq for requests without a To tag (§8.2.2.2 merged requests);
 * - by Call-ID + From tag + CSeq number for INVITEs, so a 2xx ACK — a transaction of its own with
 *   a fresh branch — still finds the INVITE whose 2xx retransmissions it stops (§13.3.1.4).
 */
export class ServerIndex {
  private readonly byKey = new Map<string, ServerTransaction>();
  private readonly byMergeKey = new Map<string, ServerTransaction>();
  private readonly invitesByDialogSeq = new Map<string, ServerInviteTransaction>();

  get size(): number {
    return this.byKey.size;
  }

  identify(req: SipRequest): RequestIdentity | IdentityError {
    return requestIdentity(req);
  }

  /** The transaction a request (or an ACK, for its INVITE) belongs to (§17.2.3). */
  match(id: RequestIdentity): ServerTransaction | undefined {
    const txn = this.byKey.get(id.key);
    if (!txn || id.rfc3261) return txn;
    // RFC 2543: the To tag must match too — for an ACK, the tag of the response it acknowledges.
    const expected = id.cseq.method === 'ACK' ? (txn.identity.toTag ?? toTagOf(txn)) : txn.identity.toTag;
    return expected === id.toTag ? txn : undefined;
  }

  /** The INVITE a CANCEL refers to: same key with method INVITE (§9.2), To tag equal for RFC 2543. */
  inviteForCancel(cancel: SipRequest): ServerInviteTransaction | undefined {
    const id = requestIdentity(cancel, 'INVITE');
    if (typeof id === 'string') return undefined;
    const txn = this.byKey.get(id.key);
    if (!(txn instanceof ServerInviteTransaction)) return undefined;
    return id.rfc3261 || txn.identity.toTag === id.toTag ? txn : undefined;
  }

  /** The transaction a new request would be merged with (§8.2.2.2), if any. */
  mergedWith(id: RequestIdentity): ServerTransaction | undefined {
    return id.toTag === undefined ? this.byMergeKey.get(mergeKey(id)) : undefined;
  }

  /** The Accepted INVITE whose 2xx (To tag included) an ACK with a new branch acknowledges. */
  inviteFor2xxAck(id: RequestIdentity): ServerInviteTransaction | undefined {
    const txn = this.invitesByDialogSeq.get(dialogSeqKey(id));
    if (!txn || txn.state !== 'accepted') return undefined;
    return toTagOf(txn) === id.toTag ? txn : undefined;
  }

  add(txn: ServerTransaction): void {
    const id = txn.identity;
    this.byKey.set(id.key, txn);
    const merge = mergeKey(id);
    if (id.toTag === undefined && !this.byMergeKey.has(merge)) this.byMergeKey.set(merge, txn);
    // First one wins: a merged copy of the INVITE (answered 482) must not hide the original from its ACK.
    const seqKey = dialogSeqKey(id);
    if (txn instanceof ServerInviteTransaction && !this.invitesByDialogSeq.has(seqKey)) this.invitesByDialogSeq.set(seqKey, txn);
  }

  remove(txn: ServerTransaction): void {
    const id = txn.identity;
    deleteIfSame(this.byKey, id.key, txn);
    deleteIfSame(this.byMergeKey, mergeKey(id), txn);
    if (txn instanceof ServerInviteTransaction) deleteIfSame(this.invitesByDialogSeq, dialogSeqKey(id), txn);
  }
}

function dialogSeqKey(id: RequestIdentity): string {
  return `${id.callId}|${id.fromTag ?? ''}|${id.cseq.seq}`;
}

/** The To tag of the last response the transaction sent. */
function toTagOf(txn: ServerTransaction): string | undefined {
  return txn.lastToTag;
}

function deleteIfSame<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.get(key) === value) map.delete(key);
}
