/**
 * The real Switchboard for the authenticated REGISTER and the calls benches: a data directory
 * pre-filled with a tenant and N extensions of known passwords (through the store's own repository
 * functions, in one transaction), SIPp injection CSVs, and `src/main.ts` started on it — the same
 * composition root, registrar, call code and rtpengine supervision as `npm start`, on free
 * loopback ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey, createExtension, createTenant, inTransaction, migrateToLatest, openDatabase } from '../../src/store/index.js';

/** The tenant every bench extension belongs to; its domain is the SIP address SIPp sends to. */
export const BENCH_DOMAIN = '127.0.0.1';

/** Extension number `i` of the bench tenant (200000…), and its password. */
export function benchUser(i: number): { number: string; password: string } {
  const number = String(200000 + i);
  return { number, password: `pw-${number}` };
}

/**
 * One SIPp injection line: user;password;[authentication …];extra fields. SIPp 3.6 does not
 * expand [fieldN] inside the [authentication] keyword, but it does expand a keyword held in a
 * field: the third column is the whole keyword.
 */
export function injectionLine(i: number, ...extra: string[]): string {
  const { number, password } = benchUser(i);
  return [number, password, `[authentication username=${number} password=${password}]`, ...extra].join(';');
}

/**
 * Create `<dir>/switchboard.db` with one tenant and extensions 200000… (count of them), passwords
 * `pw-<number>`, and `<dir>/users.csv` for SIPp (`-inf`, SEQUENTIAL, fields user;password;auth keyword). Returns the secret key
 * (hex) main.ts must be given so it reads the same encrypted passwords. With `apiKey`, an admin
 * API key of that value is stored too (the first-start seed, which would make one, does not run
 * on a data directory that already has a tenant).
 */
export async function prepareBenchData(dir: string, count: number, opts: { apiKey?: string } = {}): Promise<{ csv: string; secretKeyHex: string }> {
  mkdirSync(dir, { recursive: true });
  const secretKey = randomBytes(32);
  const store = openDatabase(join(dir, 'switchboard.db'));
  try {
    await migrateToLatest(store.db);
    const rows: string[] = ['SEQUENTIAL'];
    await inTransaction(store.db, async (trx) => {
      const tenant = await createTenant(trx, { name: 'Bench', sipDomain: BENCH_DOMAIN });
      for (let i = 0; i < count; i++) {
        const { number, password: sipPassword } = benchUser(i);
        await createExtension(trx, secretKey, { tenantId: tenant.id, number, sipPassword });
        rows.push(injectionLine(i));
      }
      if (opts.apiKey !== undefined) await createApiKey(trx, { tenantId: tenant.id, name: 'bench', scopes: ['admin'], key: opts.apiKey });
    });
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, rows.join('\n') + '\n');
    return { csv, secretKeyHex: secretKey.toString('hex') };
  } finally {
    await store.close();
  }
}

/** A running main.ts with its engine child (and the rtpengine it started): the pids, for CPU accounting. */
export interface RunningSwitchboard {
  main: ChildProcess;
  enginePid: number;
  /** The rtpengine main started and supervises, and its ng control socket, when media is anchored. */
  rtpengine?: { pid: number; ng: { host: string; port: number } };
}

/**
 * Start `node --import tsx src/main.ts` on `dataDir`, SIP on 127.0.0.1:`sipPort`, HTTP on a free
 * port, and wait for its `switchboard ready` log line (the registrar is routed by then).
 */
export async function startSwitchboard(opts: {
  root: string;
  dataDir: string;
  sipPort: number;
  httpPort: number;
  secretKeyHex: string;
  log: string;
  nodeFlags?: string[];
  /** More SWITCHBOARD_* settings (media, RTP ports…), over the bench defaults below. */
  env?: Record<string, string>;
}): Promise<RunningSwitchboard> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  Object.assign(env, {
    SWITCHBOARD_DATA_DIR: opts.dataDir,
    SWITCHBOARD_SIP_ADDRESS: '127.0.0.1',
    SWITCHBOARD_SIP_PORT: String(opts.sipPort),
    SWITCHBOARD_ENGINE_ADMIN_PORT: '0',
    SWITCHBOARD_HTTP_ADDRESS: '127.0.0.1',
    SWITCHBOARD_HTTP_PORT: String(opts.httpPort),
    SWITCHBOARD_SECRET_KEY: opts.secretKeyHex,
    SWITCHBOARD_LOG_LEVEL: 'warn',
    // SIPp 3.6 computes MD5 only and reads the first challenge: offer MD5 first (the same
    // registrar code; the order is a deployment setting for such phones).
    SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
    // SIPp does not answer OPTIONS: qualify rounds would only add 10,000 timing-out pings.
    SWITCHBOARD_SIP_QUALIFY_SECONDS: '0',
    ...opts.env,
  });
  const fd = openSync(opts.log, 'a');
  const main = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', 'src/main.ts'], {
    cwd: opts.root,
    env,
    stdio: ['ignore', fd, fd],
  });
  const deadline = Date.now() + 60_000;
  // warn level hides the info lines: readiness shows as the banner on stderr (same file).
  while (Date.now() < deadline) {
    if (main.exitCode !== null) throw new Error(`switchboard exited (${main.exitCode}); see ${opts.log}`);
    const text = readFileSync(opts.log, 'utf8');
    const engine = /embedded engine \(pid (\d+)\)/.exec(text);
    if (text.includes('Switchboard is running') && engine) {
      // The banner's media line: "through rtpengine (pid N, started by Switchboard, ng host:port, …".
      const rtp = /through rtpengine \(pid (\d+), started by Switchboard, ng ([\d.]+):(\d+)/.exec(text);
      return { main, enginePid: Number(engine[1]), ...(rtp ? { rtpengine: { pid: Number(rtp[1]), ng: { host: rtp[2]!, port: Number(rtp[3]) } } } : {}) };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  main.kill('SIGKILL');
  throw new Error(`switchboard not ready within 60 s; see ${opts.log}`);
}
