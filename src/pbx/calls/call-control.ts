/**
 * The call service as the SIP adapter's {@link CallControl} port: SIP outcomes in, state machine
 * events out. The only place where a final status becomes a call event for a live INVITE.
 */
import type { CallControl } from '../../sip/calls/index.js';
import type { CallService } from './call-service.js';
import { eventForFinalStatus } from './call-state.js';

export function callControlOf(service: CallService): CallControl {
  return {
    async startCall(input) {
      return service.startCall({ ...input, direction: 'internal' });
    },
    async ringing(callId) {
      await service.apply(callId, { type: 'ring' });
    },
    async answered(callId, extensionId) {
      return (await service.answer(callId, extensionId)).ok;
    },
    async failed(callId, sipStatus) {
      await service.apply(callId, eventForFinalStatus(sipStatus));
    },
    async callerCancelled(callId) {
      await service.apply(callId, { type: 'cancel' });
    },
    async hungUp(callId) {
      await service.apply(callId, { type: 'hangup' });
    },
    async held(callId, on, by) {
      await service.held(callId, on, by);
    },
    async transferred(callId, info) {
      await service.transferred(callId, info);
    },
    attachLegs(callId, legs) {
      service.attachLegs(callId, legs);
    },
  };
}
