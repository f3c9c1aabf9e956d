/**
 * A real softphone for end-to-end tests: one `baresip` (Debian's, 1.0.0 in bookworm) with its own
 * config directory, SIP and RTP on loopback, no sound card, driven over its `ctrl_tcp` socket
 * (netstring-framed JSON commands, and events such as REGISTER_OK or CALL_ESTABLISHED that tell the
 * test when something happened instead of it sleeping and hoping).
 *
 * Audio: the `aufile` source plays a WAV file as the microphone; baresip 1.0.0 has no file player,
 * so the speaker is ALSA's `null` device and the `sndfile` filter dumps what it decodes from the far
 * side (what the user would hear) into `dump-…-dec.wav` in the config directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './switchboard-run.js';

export interface BaresipOptions {
  /** For the config directory's name and messages. */
  name: string;
  /** The PBX: host:port of its SIP UDP socket. */
  registrar: string;
  user: string;
  password: string;
  /** The WAV (8 kHz, mono, signed 16-bit) played as the microphone; it must outlast the call. */
  microphone: string;
  /** baresip picks its RTP (and RTCP) ports in here. */
  rtpPorts: [number, number];
  /** Answer incoming calls at once. */
  autoAnswer?: boolean;
}

export interface BaresipEvent {
  type: string;
  [key: string]: unknown;
}

export interface Baresip {
  readonly dir: string;
  readonly events: BaresipEvent[];
  readonly output: string;
  /** Resolves with the first event (seen before or after the call) that matches. */
  waitForEvent(type: string, ms: number): Promise<BaresipEvent>;
  /** A ctrl_tcp command (a menu command: dial, hangup…); resolves with its response. */
  command(command: string, params?: string): Promise<{ ok: boolean; data: string }>;
  /** The recordings of what it heard, one per call. */
  heardFiles(): string[];
  kill(): void;
}

/** Encode one netstring: `<length>:<payload>,`. */
const netstring = (s: string): Buffer => {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
};

export async function startBaresip(o: BaresipOptions): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), `switchboard-baresip-${o.name}-`));
  const sipPort = await freePort();
  const ctrlPort = await freePort();
  const answer = o.autoAnswer ? ';answermode=auto' : '';
  // No account at start: it is added over ctrl_tcp once connected, so its REGISTER_OK reaches us.
  writeFileSync(join(dir, 'accounts'), '');
  writeFileSync(join(dir, 'contacts'), '');
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      // Loopback, not the host's default interface: SDP and Contact must say 127.0.0.1.
      'net_interface 127.0.0.1',
      'call_local_timeout 20',
      'call_max_calls 1',
      `audio_source aufile,${o.microphone}`,
      'audio_player alsa,null',
      'audio_alert alsa,null',
      `rtp_ports ${o.rtpPorts[0]}-${o.rtpPorts[1]}`,
      'rtcp_mux no',
      'jitter_buffer_delay 5-10',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module alsa.so',
      'module sndfile.so',
      'module_tmp uuid.so',
      'module_tmp account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      `snd_path ${dir}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));

  const events: BaresipEvent[] = [];
  const waiters = new Set<() => void>();
  const pending = new Map<string, (r: { ok: boolean; data: string }) => void>();
  const socket = await connectWithRetry(ctrlPort, 5000, () => output, child).catch((err: unknown) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const colon = buf.indexOf(':');
      if (colon < 0) break;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 1 + len + 1) break;
      const msg = JSON.parse(buf.subarray(colon + 1, colon + 1 + len).toString('utf8')) as Record<string, unknown>;
      buf = buf.subarray(colon + 1 + len + 1);
      if (msg.event === true) {
        events.push(msg as BaresipEvent);
        for (const w of waiters) w();
      } else if (msg.response === true && typeof msg.token === 'string') {
        pending.get(msg.token)?.({ ok: msg.ok === true, data: typeof msg.data === 'string' ? msg.data : '' });
        pending.delete(msg.token);
      }
    }
  });
  socket.on('error', () => {});

  let tokens = 0;
  const phone: Baresip = {
    dir,
    events,
    get output() {
      return output;
    },
    waitForEvent: (type, ms) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = events.find((e) => e.type === type);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`baresip ${o.name}: no ${type} within ${ms} ms; events: ${events.map((e) => e.type).join(', ')}\n${output}`));
        }, ms);
        waiters.add(check);
        check();
      }),
    command: (command, params) =>
      new Promise((resolve, reject) => {
        const token = `t${++tokens}`;
        const timer = setTimeout(() => {
          pending.delete(token);
          reject(new Error(`baresip ${o.name}: no response to ${command} within 5 s\n${output}`));
        }, 5000);
        pending.set(token, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        socket.write(netstring(JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token })));
      }),
    heardFiles: () => readdirSync(dir).filter((f) => f.startsWith('dump-') && f.endsWith('-dec.wav')).map((f) => join(dir, f)),
    kill: () => {
      socket.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // PCMU only: one codec both ends have, so the recordings are the same G.711 as the tones sent.
  const account = `<sip:${o.user}@${o.registrar};transport=udp>;auth_user=${o.user};auth_pass=${o.password};audio_codecs=pcmu;regint=300${answer}`;
  const created = await phone.command('uanew', account).catch((err: unknown) => ({ ok: false, data: String(err) }));
  if (!created.ok) {
    phone.kill();
    throw new Error(`baresip ${o.name}: uanew failed: ${created.data}\n${output}`);
  }
  return phone;
}

/** ctrl_tcp listens once baresip has loaded its modules: retry until then, or until it died. */
async function connectWithRetry(port: number, ms: number, output: () => string, child: ChildProcess): Promise<Socket> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baresip exited (${child.exitCode}):\n${output()}`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`baresip ctrl_tcp on 127.0.0.1:${port} not up within ${ms} ms (${String(err)}):\n${output()}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
