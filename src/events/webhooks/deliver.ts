import { SwitchboardError } from '../../shared/errors.js';
import { postPinned, type AttemptResult, type PinnedRequest } from './pinned-request.js';
import { resolveWebhookTarget, type TargetPolicy } from './webhook-target.js';

/** An attempt's outcome plus the address it went to (or was refused), for the delivery log. */
export interface DeliveryAttempt extends AttemptResult {
  /** The checked address connected to; null when the URL was refused before connecting. */
  address: string | null;
  /** True when the SSRF guard refused the URL at delivery time (retrying will not help until DNS or config changes). */
  refused: boolean;
}

/**
 * One delivery attempt as the dispatcher makes it: resolve the URL's host again and check every
 * address (DNS may have changed since the webhook was created — rebinding), then POST to the
 * checked address only. Never throws for network or policy failures; they are results.
 */
export async function attemptDelivery(url: string, req: PinnedRequest, policy: TargetPolicy = {}): Promise<DeliveryAttempt> {
  const started = performance.now();
  let target;
  try {
    target = await resolveWebhookTarget(url, policy);
  } catch (err) {
    if (!(err instanceof SwitchboardError)) throw err;
    return { ok: false, refused: true, address: null, statusCode: null, excerpt: null, error: `refused: ${err.message}`, durationMs: Math.round(performance.now() - started) };
  }
  return { ...(await postPinned(target, req)), address: target.address, refused: false };
}
