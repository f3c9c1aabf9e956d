import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sipContactUri, type AppConfig } from '../config/load-config.js';
import type { Logger } from '../obs/logger.js';

/** What the engine CLI sends over IPC once its sockets are bound (src/engine/cli.ts). */
export interface EngineReady {
  type: 'ready';
  adminPort: number;
  sip: Array<{ protocol: string; address: string; port: number }>;
}

/** The embedded engine as main sees it. */
export interface EngineProcess {
  readonly child: ChildProcess;
  readonly ready: EngineReady;
  stop(): Promise<void>;
}

const engineReadyTimeoutMs = 30_000;
const engineStopTimeoutMs = 5_000;

/**
 * The engine entry: `engine/cli.ts` run through tsx in development (`npm start`), `engine/cli.js`
 * with plain node in the built image, where tsx is not needed. Resolved from this file (src/app/,
 * dist/app/), one level below the engine's folder.
 */
function engineEntry(): { file: string; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    return { file: fileURLToPath(new URL('../engine/cli.ts', self)), execArgv: ['--import', import.meta.resolve('tsx')] };
  }
  return { file: fileURLToPath(new URL('../engine/cli.js', self)), execArgv: [] };
}

// Preloaded into the engine: when main dies without stopping it (SIGKILL, crash), the IPC channel
// closes, and the engine stops too instead of living on as an orphan that holds the SIP port.
const exitWithParent = 'data:text/javascript,process.on("disconnect",()=>process.kill(process.pid,"SIGTERM"))';

function isReady(m: unknown): m is EngineReady {
  const r = m as Partial<EngineReady> | null;
  return typeof r === 'object' && r !== null && r.type === 'ready' && typeof r.adminPort === 'number' && Array.isArray(r.sip);
}

/** Fork the engine on its own core and wait for its `ready` message. */
export function startEngine(config: AppConfig, secret: string, adminPort: number, log: Logger): Promise<EngineProcess> {
  const entry = engineEntry();
  const args = ['--contact', sipContactUri(config.sip), '--address', '127.0.0.1', '--port', String(adminPort), '--loglevel', config.logLevel];
  const child = fork(entry.file, args, {
    execArgv: [...entry.execArgv, '--import', exitWithParent],
    // The secret goes in the environment, not argv: /proc/<pid>/cmdline is readable by every
    // local user, /proc/<pid>/environ only by the owner. Nothing else of ours is passed down.
    env: { DRACHTIO_SECRET: secret },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Its own process group: Ctrl-C reaches main alone, which stops the app before the engine.
    detached: true,
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), engineStopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      void stop();
      reject(new Error(`the SIP engine did not start within ${engineReadyTimeoutMs / 1000} s`));
    }, engineReadyTimeoutMs);
    const onMessage = (m: unknown): void => {
      if (!isReady(m)) return;
      cleanup();
      log.debug({ pid: child.pid, adminPort: m.adminPort }, 'engine ready');
      resolve({ child, ready: m, stop });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(new Error(`the SIP engine exited during start (code ${code}, signal ${signal}); see its log above (a port already in use? set SWITCHBOARD_SIP_PORT or SWITCHBOARD_ENGINE_ADMIN_PORT)`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
