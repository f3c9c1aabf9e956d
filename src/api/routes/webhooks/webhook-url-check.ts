import { resolveWebhookTarget } from '../../../events/webhooks/webhook-target.js';
import { SwitchboardError } from '../../../shared/errors.js';
import { FieldError } from '../../errors.js';
import type { ResourceDeps } from '../../resources.js';

/**
 * The creation-time SSRF check: resolve the URL's host and refuse it (422 naming `url`) if any
 * address is off-limits. The dispatcher checks again at every delivery, since DNS can change.
 */
export async function checkWebhookUrl(deps: ResourceDeps, url: string): Promise<void> {
  try {
    await resolveWebhookTarget(url, deps.webhooks ?? {});
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'WEBHOOK_URL_REFUSED') {
      throw new FieldError('WEBHOOK_URL_REFUSED', `url refused: ${err.message}`, [{ field: 'url', issue: err.message }]);
    }
    throw err;
  }
}
