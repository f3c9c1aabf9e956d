import { isIP } from 'node:net';
import { resolveWebhookTarget, type TargetPolicy, type WebhookTarget } from '../../events/webhooks/webhook-target.js';
import { SwitchboardError } from '../../shared/errors.js';

/** A URL that passed the SSRF check, and until when (wall ms) that check may be reused; null: for the whole run (an IP literal). */
export type CheckedTarget = { target: WebhookTarget; until: number | null } | { refused: string };

/**
 * The SSRF check of every delivery attempt (resolve the host, check every address): a host name's
 * checked resolution is reused for at most `reuseMs` (the delivery side stops a run when it
 * expires, and the next run checks again — so DNS rebinding gets at most that long); an IP literal
 * needs no lookup, so its check — the same every time under one policy — is kept for good (parsing
 * and range-checking the URL for every page was a measurable part of a one-event page).
 */
export class CheckedTargets {
  private readonly targets = new Map<string, { target: WebhookTarget; until: number | null }>();

  constructor(
    private readonly policy: TargetPolicy = {},
    private readonly reuseMs = 2000,
  ) {}

  async check(url: string): Promise<CheckedTarget> {
    const wall = Date.now();
    const cached = this.targets.get(url);
    if (cached && (cached.until === null || wall <= cached.until)) return cached;
    let target: WebhookTarget;
    try {
      target = await resolveWebhookTarget(url, this.policy);
    } catch (err) {
      if (!(err instanceof SwitchboardError)) throw err;
      this.targets.delete(url);
      return { refused: `refused: ${err.message}` };
    }
    const checked = { target, until: isIP(target.hostname) !== 0 ? null : wall + this.reuseMs };
    // Bounded: the URLs of deleted or edited endpoints are simply forgotten with the rest.
    if (this.targets.size > 10_000) this.targets.clear();
    this.targets.set(url, checked);
    return checked;
  }
}
