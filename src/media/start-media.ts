import { accessSync, constants } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import type { MediaTarget } from '../config/load-config.js';
import type { Logger } from '../obs/logger.js';
import { SwitchboardError } from '../shared/errors.js';
import { DirectMedia } from './direct-media.js';
import type { MediaAnchor } from './ports.js';
import { startLocalRtpengine, type LocalRtpengine } from './rtpengine/local-rtpengine.js';
import { createNgClient } from './rtpengine/ng-client.js';
import { RtpengineAnchor } from './rtpengine/rtpengine-anchor.js';

/** The media layer as main runs it: the anchor for call code, plus what the banner, readiness and shutdown need. */
export interface MediaRuntime {
  readonly anchor: MediaAnchor;
  /** One line for the banner: where media goes, and how to change it. */
  readonly summary: string;
  /** The `/api/ready` check when an rtpengine is used. */
  readonly readiness?: { name: 'rtpengine'; check: () => Promise<boolean> };
  /** The supervised rtpengine, when this process started one. */
  readonly local?: LocalRtpengine;
  /** Release our sessions, then stop the rtpengine we started. Never throws. */
  stop(): Promise<void>;
}

export interface StartMediaOptions {
  log: Logger;
  /** See RtpengineAnchorOptions.ownerTag; main derives it from the secret key. */
  ownerTag: string;
  /** The SIP bind address: the default RTP address when it is a specific IPv4 address. */
  sipAddress: string;
  /** The PATH to look the rtpengine binary up in. */
  searchPath: string;
}

/** A media setup that cannot work as configured (an explicit rtpengine that does not answer…). */
export class MediaStartError extends SwitchboardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('media.start-failed', message, options);
    this.name = 'MediaStartError';
  }
}

export const directMediaWarning =
  'Media   direct between the phones — install rtpengine-daemon (apt-get install rtpengine-daemon) or set RTPENGINE_NG to anchor media';

/**
 * Pick and start the media anchor: RTPENGINE_NG → that rtpengine (it must answer ping now);
 * else the rtpengine binary if installed → start and supervise one; else direct media with one
 * warning. Stale sessions of a previous run of this instance are deleted before any call.
 *
 * @throws MediaStartError when an explicitly configured rtpengine cannot be used.
 */
export async function startMedia(target: MediaTarget, opts: StartMediaOptions): Promise<MediaRuntime> {
  const log = opts.log;
  if (target.mode === 'direct') {
    log.info('media goes directly between the phones (SWITCHBOARD_MEDIA=direct)');
    return direct('Media   direct between the phones (SWITCHBOARD_MEDIA=direct)');
  }

  let local: LocalRtpengine | undefined;
  let localRtp = '';
  let ng: { host: string; port: number };
  if (target.mode === 'external') {
    ng = { host: target.host, port: target.port };
  } else {
    const binary = findExecutable(target.binary, opts.searchPath);
    if (binary === undefined) {
      if (target.required) throw new MediaStartError(`rtpengine binary "${target.binary}" not found (install rtpengine-daemon, or fix SWITCHBOARD_RTPENGINE_BINARY)`);
      log.warn(directMediaWarning.replace(/^Media\s+/, 'media: '));
      return direct(directMediaWarning);
    }
    const address = target.address ?? defaultRtpAddress(opts.sipAddress);
    try {
      local = await startLocalRtpengine({ binary, ngPort: 0, portMin: target.portMin, portMax: target.portMax, interface: address, log: log.child({ component: 'rtpengine' }) });
    } catch (err) {
      throw new MediaStartError(`could not start rtpengine (${binary}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    ng = local.ng;
    localRtp = `${address} ports ${target.portMin}-${target.portMax}`;
  }

  const anchor = new RtpengineAnchor({
    client: createNgClient({ ...ng, onStrayError: (err) => log.debug({ err }, 'rtpengine ng socket') }),
    ownerTag: opts.ownerTag,
    log,
  });
  const where = `${ng.host}:${ng.port}`;
  try {
    await anchor.ping();
    await anchor.sweepStale();
  } catch (err) {
    anchor.close();
    await local?.stop();
    const hint = target.mode === 'external' ? ' (is it running? is RTPENGINE_NG its --listen-ng address?)' : '';
    throw new MediaStartError(`rtpengine at ${where} does not answer: ${err instanceof Error ? err.message : String(err)}${hint}`, { cause: err });
  }
  log.info({ ng: where, supervised: local !== undefined, ownerTag: opts.ownerTag }, 'media anchored through rtpengine');

  const summary = local
    ? `Media   through rtpengine (pid ${local.pid}, started by Switchboard, ng ${where}, RTP on ${localRtp})`
    : `Media   through rtpengine at ${where} (RTPENGINE_NG)`;
  return {
    anchor,
    summary,
    readiness: { name: 'rtpengine', check: () => anchor.ping().then(() => true) },
    ...(local ? { local } : {}),
    async stop() {
      const released = await anchor.releaseAll();
      if (released > 0) log.info({ released }, 'released media sessions');
      anchor.close();
      await local?.stop();
    },
  };
}

function direct(summary: string): MediaRuntime {
  return { anchor: new DirectMedia(), summary, stop: () => Promise.resolve() };
}

/** `name` itself when it is a path, else the first executable `name` on `searchPath`. */
export function findExecutable(name: string, searchPath: string): string | undefined {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Where RTP goes when SWITCHBOARD_RTP_ADDRESS is unset: the SIP address if it is one IPv4
 * address; with SIP on every interface, the first non-loopback IPv4 address (what a LAN phone
 * reaches); on a box with none, loopback.
 */
export function defaultRtpAddress(sipAddress: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(sipAddress) && sipAddress !== '0.0.0.0') return sipAddress;
  for (const addrs of Object.values(networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}
