/**
 * The set-up every end-to-end call suite shares: `npm start` ({@link loopbackStart} + {@link launch})
 * with the rtpengine it starts, in debug, qualify off (no OPTIONS may reach a SIPp UAS, which
 * expects only the call), MD5 and SHA-256 digests, and the suite's own RTP range; then the API with
 * the bootstrap key, extensions created through it, phones registered by the UDP client, the newest
 * CDR, and the server's log for a failure message.
 *
 *   const pbx = callPbx('calls', { rtpMin: 41200, rtpMax: 41299, env: { SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS: '3' } });
 *   const { api, target } = pbx; // its functions need no `this`
 *   beforeAll(() => pbx.start({ '3001': 'Alice', '3002': 'Bob' }), 90_000);
 *   afterAll(() => pbx.close());
 *
 * Loopback address plan. Suites run in parallel (one process each), so each has addresses of its
 * own for the phones it registers; a phone's port is then never taken by another suite's SIPp or
 * UDP client, and a binding is never refreshed by another suite's phone.
 *
 *   127.0.0.1        every PBX (SIP, HTTP, rtpengine), the SIPp UACs, baresip.test.ts's phones
 *   127.0.0.2–3      registrar.test.ts
 *   127.0.0.11–13    calls.test.ts (B; B's two phones)
 *   127.0.0.21–23    live-calls.test.ts (A, B, C)
 *   127.0.0.31–33    hold-transfer.test.ts (A, B, C; fixed RTP ports 20000, 22000, 24000)
 *   127.0.0.41–46    ring-groups.test.ts (the members 5101–5106)
 *   127.0.0.51–52    forwarding.test.ts (B, C)
 *
 * The RTP ranges stay in each suite, apart too: rtpengine's for calls 41200–41299 (its SIPp phones
 * 41400–41419), baresip 41450–41499 (its phones 41420–41449), ring-groups 41500–41599, forwarding
 * 41600–41699, hold-transfer 41700–41799, live-calls 41800–41899.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { expect } from 'vitest';
import { SipUdpClient } from './sip-udp-client.js';
import { killRun, launch, loopbackStart, type Run } from './switchboard-run.js';

export interface CallPbxOptions {
  /** rtpengine's port range (SWITCHBOARD_RTP_PORT_MIN/MAX): each suite has its own. */
  rtpMin: number;
  rtpMax: number;
  /** Adds or overrides variables, e.g. SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS. */
  env?: Record<string, string>;
}

export interface CallPbx {
  /** The running server; replaced by {@link CallPbx.relaunch}. Throws before {@link CallPbx.start}. */
  readonly run: Run;
  readonly sipPort: number;
  readonly httpPort: number;
  /** Every extension {@link CallPbx.createExtension} created, by number. */
  readonly extensions: Readonly<Record<string, { id: string; password: string }>>;
  /**
   * Loopback start, launch, wait for 'switchboard ready', then create `extensions` (number →
   * display name, in the object's order).
   */
  start(extensions?: Record<string, string>): Promise<void>;
  /** The same server again (same ports, data directory and environment), after a test stopped or killed it. */
  relaunch(): Promise<void>;
  /** `127.0.0.1:<sip port>`, for SIPp. */
  target(): string;
  /** `fetch` on `/api/v1<path>` with the bootstrap key and a JSON content type. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** `POST /extensions` (must be 201): its id and SIP password. */
  createExtension(number: string, name: string): Promise<{ id: string; password: string }>;
  /**
   * Registers extension `number` (created by {@link CallPbx.createExtension}) with MD5 from
   * `address`, on `port` (0: one the OS picks), and must get 200; the port the phone used.
   */
  registerFrom(number: string, address: string, port?: number): Promise<number>;
  /** The newest call record, through `GET /cdrs?limit=1` (newest first). */
  lastCdr<T>(): Promise<T | undefined>;
  /** The server's log lines of `components` and every warning or error, one JSON line each. */
  serverLog(components?: readonly string[]): string;
  /** Kills the server and its engine and rtpengine, and removes the data directory. */
  close(): void;
}

export function callPbx(name: string, options: CallPbxOptions): CallPbx {
  const bootstrapKey = `sk_live_${randomBytes(24).toString('hex')}`;
  const extensions: Record<string, { id: string; password: string }> = {};
  let started: { dataDir: string; sipPort: number; httpPort: number; env: NodeJS.ProcessEnv } | undefined;
  let run: Run | undefined;
  const state = (): { sipPort: number; httpPort: number; env: NodeJS.ProcessEnv } => {
    if (!started) throw new Error(`call PBX ${name} not started`);
    return started;
  };
  const launchReady = async (env: NodeJS.ProcessEnv): Promise<void> => {
    run = launch(env);
    await run.waitForLog((l) => l.msg === 'switchboard ready', 60_000);
  };
  const pbx: CallPbx = {
    get run(): Run {
      if (!run) throw new Error(`call PBX ${name} not started`);
      return run;
    },
    get sipPort() {
      return state().sipPort;
    },
    get httpPort() {
      return state().httpPort;
    },
    extensions,
    async start(create = {}) {
      started = await loopbackStart(name, bootstrapKey, {
        SWITCHBOARD_LOG_LEVEL: 'debug', // the refusal reasons and call steps, in the failure message
        SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
        SWITCHBOARD_SIP_QUALIFY_SECONDS: '0',
        SWITCHBOARD_MEDIA: 'rtpengine',
        SWITCHBOARD_RTP_PORT_MIN: String(options.rtpMin),
        SWITCHBOARD_RTP_PORT_MAX: String(options.rtpMax),
        ...options.env,
      });
      await launchReady(started.env);
      for (const [number, displayName] of Object.entries(create)) await pbx.createExtension(number, displayName);
    },
    relaunch: () => launchReady(state().env),
    target: () => `127.0.0.1:${state().sipPort}`,
    api: (path, init = {}) =>
      fetch(`http://127.0.0.1:${state().httpPort}/api/v1${path}`, { ...init, headers: { 'X-API-Key': bootstrapKey, 'Content-Type': 'application/json', ...init.headers } }),
    async createExtension(number, displayName) {
      const res = await pbx.api('/extensions', { method: 'POST', body: JSON.stringify({ number, display_name: displayName }) });
      expect(res.status, await res.clone().text()).toBe(201);
      const data = ((await res.json()) as { data: { id: string; sip_password: string } }).data;
      const created = { id: data.id, password: data.sip_password };
      extensions[number] = created;
      return created;
    },
    async registerFrom(number, address, port = 0) {
      const phone = await SipUdpClient.open(address, { host: '127.0.0.1', port: state().sipPort }, port);
      try {
        const { final } = await phone.register({ user: number, password: extensions[number]!.password, domain: '127.0.0.1', algorithm: 'MD5' });
        expect(final?.status).toBe(200);
        return phone.port;
      } finally {
        phone.close();
      }
    },
    async lastCdr<T>() {
      const res = await pbx.api('/cdrs?limit=1');
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: T[] }).data[0];
    },
    serverLog: (components = ['calls']) =>
      (run?.lines ?? [])
        .filter((l) => components.includes(l.component as string) || (l.level as number) >= 40)
        .map((l) => JSON.stringify(l))
        .join('\n'),
    close() {
      killRun(run);
      if (started) rmSync(started.dataDir, { recursive: true, force: true });
    },
  };
  return pbx;
}
