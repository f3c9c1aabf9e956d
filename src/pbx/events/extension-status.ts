import type { EventData } from '../../events/event-types.js';
import type { Binding } from '../../sip/registrar/index.js';

type StatusData = EventData<'extension.status'>;

/** The extension number of a binding: the user part of its address of record (`sip:1001@acme.test`). */
export const extensionOf = (aor: string): string => /^sips?:([^@;]+)@/i.exec(aor)?.[1] ?? aor;

/** The registrations API's connection type of a transport: browsers (WebSocket) apart from SIP phones. */
function connectionTypeOf(transport: string): StatusData['connection_type'] {
  const t = transport.toLowerCase();
  return t === 'ws' || t === 'wss' ? t : 'sip';
}

const registrationStatus = (live: number): 'registered' | 'unregistered' => (live > 0 ? 'registered' : 'unregistered');

/**
 * extension.status data for one binding that came (`+1`) or went (`-1`), given how many live
 * bindings its extension had just before. Registered means "has any live binding", so this says
 * unregistered only when the last one goes.
 */
export function registrationStatusData(b: Binding, delta: 1 | -1, liveBefore: number): StatusData {
  const after = Math.max(0, liveBefore + delta);
  return {
    extension_id: b.extensionId, extension: extensionOf(b.aor),
    previous_status: registrationStatus(liveBefore), current_status: registrationStatus(after),
    connection_type: connectionTypeOf(b.transport), transport: b.transport,
    registration_ip: b.sourceAddress, registration_port: b.sourcePort, registered_contacts: after,
  };
}

/** extension.status data for a call presence edge (first live call, end of the last one). */
export function presenceStatusData(extensionId: string, extension: string, status: 'in_call' | 'idle', activeCalls: number): StatusData {
  return {
    extension_id: extensionId, extension,
    previous_status: status === 'idle' ? 'in_call' : 'idle', current_status: status,
    connection_type: null, transport: null, registration_ip: null, registration_port: null, active_calls: activeCalls,
  };
}
