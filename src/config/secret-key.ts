import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchboardError } from '../shared/errors.js';

/** Name of the generated key file inside the data directory. */
export const SECRET_KEY_FILE = 'secret.key';

const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * The AES-256 key for secrets at rest (SIP passwords). `SWITCHBOARD_SECRET_KEY` wins; without it
 * a key is generated into `<dataDir>/secret.key` (mode 0600) on first start and read back on
 * later ones, so `npm start` works with nothing configured yet a restart can still decrypt what
 * the last run stored. Losing the file loses the stored SIP passwords (HA1 digests still work).
 *
 * @throws SwitchboardError `config.secret_key` when the file exists but holds no valid key —
 *   silently replacing it would make every stored secret unreadable.
 */
export function loadOrCreateSecretKey(dataDir: string, fromEnvHex: string | undefined): { key: Buffer; source: 'env' | 'file' | 'generated' } {
  if (fromEnvHex !== undefined) return { key: Buffer.from(fromEnvHex.toLowerCase(), 'hex'), source: 'env' };
  const path = join(dataDir, SECRET_KEY_FILE);
  const hex = randomBytes(32).toString('hex');
  try {
    // 'wx': create only if absent, so two starts racing cannot overwrite each other's key.
    writeFileSync(path, `${hex}\n`, { flag: 'wx', mode: 0o600 });
    // The mode above is masked by the umask; set it exactly.
    chmodSync(path, 0o600);
    return { key: Buffer.from(hex, 'hex'), source: 'generated' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const stored = readFileSync(path, 'utf8').trim().toLowerCase();
  if (!HEX_KEY.test(stored)) {
    throw new SwitchboardError('config.secret_key', `${path} does not hold a 64-hex key; restore it or set SWITCHBOARD_SECRET_KEY`);
  }
  return { key: Buffer.from(stored, 'hex'), source: 'file' };
}
