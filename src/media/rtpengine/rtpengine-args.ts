/** What the supervisor starts rtpengine with; see {@link rtpengineArgs}. */
export interface RtpengineLaunch {
  /** `[NAME/]IP[!ADVERTISED]`: where RTP sockets bind and the address the rewritten SDP carries. */
  readonly interface: string;
  /** The ng control socket, always on loopback: only this process talks to it. */
  readonly ngPort: number;
  readonly portMin: number;
  readonly portMax: number;
  /** rtpengine's syslog-style level: 5 notice (default), 6 info (a line per call), 7 debug. */
  readonly logLevel?: number;
}

/**
 * The command line of a supervised rtpengine. Every option exists in rtpengine 10.5 (`rtpengine
 * --help`); each is here for a reason:
 * - `--config-file=none`: Debian's /etc/rtpengine/rtpengine.conf would otherwise be read; it asks
 *   for the kernel module (table 0) and binds CLI and HTTP ports on localhost that a second
 *   instance (or the system service) would clash on.
 * - `--table=-1`: userspace forwarding only, so no kernel module and no root are needed. Hence no
 *   `--no-fallback` either: there is nothing to fall back from.
 * - `--foreground --log-stderr --no-log-timestamps`: the supervisor owns the process and relays its
 *   log lines into ours (which carry their own time).
 * - `--delete-delay=0`: a deleted session frees its ports at once instead of 30 s later, so a
 *   released call is really gone (and `query` says so).
 */
export function rtpengineArgs(l: RtpengineLaunch): string[] {
  return [
    '--config-file=none',
    '--table=-1',
    '--foreground',
    '--log-stderr',
    '--no-log-timestamps',
    `--log-level=${l.logLevel ?? 5}`,
    `--interface=${l.interface}`,
    `--listen-ng=127.0.0.1:${l.ngPort}`,
    `--port-min=${l.portMin}`,
    `--port-max=${l.portMax}`,
    '--delete-delay=0',
  ];
}

/**
 * Runs rtpengine under `sh` so that it dies with us, even on SIGKILL: a watcher blocks on reading
 * the stdin pipe this process holds, and when that pipe closes (stop(), or our death) it sends
 * rtpengine SIGTERM. Node has no prctl(PR_SET_PDEATHSIG); without this an orphan rtpengine would
 * keep the ng port and its sessions after a kill -9. The script prints rtpengine's pid first and
 * exits with its status (128+signal when killed).
 */
export const deathWatchScript = [
  'exec 3<&0', // background jobs get /dev/null as stdin; keep the pipe on fd 3 for the watcher
  '"$@" </dev/null 3<&- & child=$!',
  'echo "pid $child"',
  '(read _ <&3; kill -TERM "$child" 2>/dev/null) & watcher=$!',
  'wait "$child"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');
