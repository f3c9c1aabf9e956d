import type { CallLegs } from '../../src/sip/calls/index.js';

/**
 * Call legs that record what call logic asked of them (the SIP side is another engineer's work, and
 * in-process tests need none of it). `pendingTransfer` is what cancelTransfer reports; `onHangUp`
 * plays the part of the bridge, which reports the hang-up to the call service.
 */
export class FakeCallLegs implements CallLegs {
  readonly calls: string[] = [];
  pendingTransfer = false;
  failWith: Error | undefined;

  constructor(private readonly onHangUp: () => void = () => undefined) {}

  hangUp(): void {
    this.calls.push('hangUp');
    this.onHangUp();
  }

  async hold(): Promise<void> {
    this.act('hold');
  }

  async unhold(): Promise<void> {
    this.act('unhold');
  }

  async transfer(number: string): Promise<void> {
    this.act(`transfer ${number}`);
    this.pendingTransfer = true;
  }

  async cancelTransfer(): Promise<boolean> {
    this.act('cancelTransfer');
    const was = this.pendingTransfer;
    this.pendingTransfer = false;
    return was;
  }

  private act(what: string): void {
    if (this.failWith) throw this.failWith;
    this.calls.push(what);
  }
}
