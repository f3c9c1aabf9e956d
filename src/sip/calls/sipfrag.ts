/**
 * The NOTIFYs that report a REFER's progress (RFC 3515 §2.4.5, RFC 6665): an implicit `refer`
 * subscription whose bodies are `message/sipfrag` status lines (RFC 3420) of the INVITE the PBX
 * sends on the transferor's behalf. The final one terminates the subscription.
 */

const reasons: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
  603: 'Decline',
};

/** The sipfrag body for `status`: one status line, as RFC 3515 §2.4.5 requires at minimum. */
export function sipfragBody(status: number): string {
  return `SIP/2.0 ${status} ${reasons[status] ?? (status < 300 ? 'OK' : 'Failed')}\r\n`;
}

/** The NOTIFY's request options for srf's `dialog.request`: 1xx keeps the subscription active, a final status ends it. */
export function referNotify(status: number): { method: 'NOTIFY'; headers: Record<string, string>; body: string } {
  return {
    method: 'NOTIFY',
    headers: {
      Event: 'refer',
      'Subscription-State': status < 200 ? 'active;expires=60' : 'terminated;reason=noresource',
      'Content-Type': 'message/sipfrag;version=2.0',
    },
    body: sipfragBody(status),
  };
}
