import { isIP } from 'node:net';
import { resolveWebhookTarget, type TargetPolicy, type WebhookTarget } from '../../events/webhooks/webhook-target.js';
import { SwitchboardError } from '../../shared/errors.js';

/** A URL that passed the SSRF check, and until when (wall ms) that check may be reused; null: for the whole run (an IP literal). */
export type CheckedTarget = { target: WebhookTarget; until: number | null } | { refused: string };

/**
 * The SSRF check of every delivery attempt (resolve the host, check every address): a host name's
 * checked resolution is reused for at most `reuseMs` (the delivery side stops a run when it
 * expires, and the next run checks again — so DNS rebinding gets at most that long); an IP literal
 * needs no lookup, so its check — the same every time under one policy — holds for the run.
 */
export class CheckedTargets {
  private readonly targets = new Map<string, { target: WebhookTarget; until: number }>();

  constructor(
    private readonly policy: TargetPolicy = {},
    private readonly reuseMs = 2000,
  ) {}

  async check(url: string): Promise<CheckedTarget> {
    const wall = Date.now();
    const cached = this.targets.get(url);
    if (cached && wall <= cached.until) return cached;
    let target: WebhookTarget;
    try {
      target = await resolveWebhookTarget(url, this.policy);
    } catch (err) {
      if (!(err instanceof SwitchboardError)) throw err;
      this.targets.delete(url);
      return { refused: `refused: ${err.message}` };
    }
    if (isIP(target.hostname) !== 0) return { target, until: null };
    const checked = { target, until: wall + this.reuseMs };
    // Bounded: the URLs of deleted or edited endpoints are simply forgotten with the rest.
    if (this.targets.size > 10_000) this.targets.clear();
    this.targets.set(url, checked);
    return checked;
  }
}
