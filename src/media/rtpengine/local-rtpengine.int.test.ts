import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNgClient } from './ng-client.js';
import { startLocalRtpengine, type LocalRtpengine } from './local-rtpengine.js';
import { RtpengineAnchor } from './rtpengine-anchor.js';

// `npm test` installs rtpengine-daemon (scripts/ensure-system-packages.mjs); a run without it fails here, loudly.
const binary = execFileSync('sh', ['-c', 'command -v rtpengine || true']).toString().trim() || 'rtpengine';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
// A range of its own per run, so parallel suites (or a system rtpengine on 30000+) do not meet.
const portMin = 40_000 + 100 * Math.floor(Math.random() * 150);
const portMax = portMin + 99;

let rtpengine: LocalRtpengine;
let anchor: RtpengineAnchor;

beforeAll(async () => {
  rtpengine = await startLocalRtpengine({ binary, ngPort: 0, portMin, portMax, interface: '127.0.0.1', log, initialBackoffMs: 50 });
  anchor = new RtpengineAnchor({ client: createNgClient({ ...rtpengine.ng, timeoutMs: 1000 }), ownerTag: 'sb-int-', log });
});
afterAll(async () => {
  anchor?.close();
  await rtpengine?.stop();
});

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function udpPeer(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: (socket.address() as AddressInfo).port, received };
}

const audioSdp = (port: number, session: number): string =>
  `v=0\r\no=- ${session} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;

/** The address and audio port an SDP tells the other side to send to. */
function mediaTarget(sdp: string): { address: string; port: number } {
  const address = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  if (!address || !port) throw new Error(`no audio target in SDP:\n${sdp}`);
  return { address, port: Number(port) };
}

/** A PCMU packet: 12-byte RTP header (RFC 3550 §5.1) and 20 ms of µ-law silence. */
function rtpPacket(seq: number, ssrc: number): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80; // version 2
  header[1] = 0; // PT 0 = PCMU
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(seq * 160, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, Buffer.alloc(160, 0xff)]);
}

async function sendRtp(from: Socket, to: { address: string; port: number }, ssrc: number, count: number): Promise<void> {
  for (let seq = 1; seq <= count; seq++) {
    from.send(rtpPacket(seq, ssrc), to.port, to.address);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a real rtpengine under the supervisor', () => {
  it('answers ng ping on loopback', async () => {
    await expect(anchor.ping()).resolves.toBeUndefined();
    expect(rtpengine.ng.host).toBe('127.0.0.1');
    expect(rtpengine.pid).toBeGreaterThan(0);
  });

  it('relays RTP both ways between two peers after offer/answer, counts it, and forgets the call on delete', async () => {
    const a = await udpPeer();
    const b = await udpPeer();
    try {
      const callId = `call-${Date.now()}`;
      const offered = await anchor.offer({ callId, fromTag: 'tag-a', sdp: audioSdp(a.port, 1), flags: { label: 'caller' } });
      const toRtpengineFromB = mediaTarget(offered.sdp);
      expect(toRtpengineFromB.address).toBe('127.0.0.1');
      expect(toRtpengineFromB.port).toBeGreaterThanOrEqual(portMin);
      expect(toRtpengineFromB.port).toBeLessThanOrEqual(portMax);
      expect(offered.sdp).toMatch(/^o=- 1 1 IN IP4 127\.0\.0\.1/m);
      const answered = await anchor.answer({ callId, fromTag: 'tag-a', toTag: 'tag-b', sdp: audioSdp(b.port, 2) });
      const toRtpengineFromA = mediaTarget(answered.sdp);
      expect(toRtpengineFromA.port).toBeGreaterThanOrEqual(portMin);
      expect(toRtpengineFromA.port).not.toBe(toRtpengineFromB.port);

      await sendRtp(a.socket, toRtpengineFromA, 0xaaaa, 10);
      await sendRtp(b.socket, toRtpengineFromB, 0xbbbb, 10);
      await until(() => b.received.length >= 10 && a.received.length >= 10);
      // What arrives is the other side's audio, payload untouched.
      expect(b.received[0]?.readUInt32BE(8)).toBe(0xaaaa);
      expect(a.received[0]?.readUInt32BE(8)).toBe(0xbbbb);
      expect(b.received[0]?.length).toBe(172);

      const info = await anchor.query(callId);
      const leg = (tag: string) => info?.legs.find((l) => l.tag === tag);
      expect(leg('tag-a')).toMatchObject({ label: 'caller', rtp: { packets: 10, bytes: 1720 } });
      expect(leg('tag-b')?.rtp.packets).toBe(10);
      await expect(anchor.list()).resolves.toContain(callId);

      await anchor.delete({ callId });
      await expect(anchor.query(callId)).resolves.toBeUndefined();
      await expect(anchor.delete({ callId })).resolves.toBeUndefined();
      await expect(anchor.list()).resolves.not.toContain(callId);
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  it('sweeps sessions a previous run with the same owner tag left behind', async () => {
    const previous = new RtpengineAnchor({ client: createNgClient({ ...rtpengine.ng }), ownerTag: 'sb-int-', log });
    await previous.offer({ callId: 'left-behind', fromTag: 'x', sdp: audioSdp(4000, 3) });
    previous.close(); // the previous run dies without deleting
    await expect(anchor.sweepStale()).resolves.toEqual(['left-behind']);
    await expect(anchor.query('left-behind')).resolves.toBeUndefined();
  });

  it('restarts rtpengine when it is killed, on the same ng port', async () => {
    const before = rtpengine.pid;
    expect(before).toBeDefined();
    process.kill(before as number, 'SIGKILL');
    await until(() => rtpengine.restarts === 1 && rtpengine.pid !== undefined && rtpengine.pid !== before);
    await until(() => anchor.ping().then(() => true, () => false), 10_000);
    expect(isAlive(before as number)).toBe(false);
  });

  it('refuses to start on an ng port that is taken (rtpengine itself would share it silently)', async () => {
    await expect(startLocalRtpengine({ binary, ngPort: rtpengine.ng.port, portMin, portMax, interface: '127.0.0.1', log })).rejects.toThrow(/ng port 127\.0\.0\.1:\d+ is in use/);
  });

  it('fails the first start with the reason when rtpengine cannot run', async () => {
    await expect(startLocalRtpengine({ binary: '/nonexistent/rtpengine', ngPort: 0, portMin, portMax, interface: '127.0.0.1', log })).rejects.toThrow(
      /rtpengine exited during start \(code 127\)[^]*not found/,
    );
  });

  it('stops rtpengine on stop()', async () => {
    const other = await startLocalRtpengine({ binary, ngPort: 0, portMin, portMax, interface: '127.0.0.1', log });
    const pid = other.pid as number;
    expect(isAlive(pid)).toBe(true);
    await other.stop();
    await until(() => !isAlive(pid));
  });

  it('takes rtpengine down with it when the supervising process is killed with SIGKILL', async () => {
    const script = fileURLToPath(new URL('../../../test/support/run-local-rtpengine.ts', import.meta.url));
    const parent = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, binary, String(portMin)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const { pid } = JSON.parse(line.toString()) as { pid: number };
      expect(isAlive(pid)).toBe(true);
      parent.kill('SIGKILL');
      await until(() => !isAlive(pid));
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
