import type { LiveCalls } from '../../../pbx/calls/live-calls.js';
import { SwitchboardError } from '../../../shared/errors.js';
import type { ResourceDeps } from '../../resources.js';

export const tags = ['Live calls'];

/** The live calls, or 503 when this API runs without the PBX (tools, some tests). */
export function liveCallsOf(deps: ResourceDeps): LiveCalls {
  if (!deps.calls) throw new SwitchboardError('CALLS_UNAVAILABLE', 'live calls are not available: the PBX is not running in this process', { httpStatus: 503 });
  return deps.calls;
}
