import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the instance id file inside the data directory. */
export const INSTANCE_ID_FILE = 'instance-id';

const ID = /^[0-9a-f]{12}$/;

/**
 * A random id for this Switchboard instance, created in `<dataDir>/instance-id` on first start and
 * read back on later ones. It names what this instance leaves in shared services (the owner tag of
 * its rtpengine sessions), so a restart after a crash finds exactly its own leftovers. Not derived
 * from the secret key: two instances configured with one SWITCHBOARD_SECRET_KEY must still differ.
 * A missing or unreadable file gets a fresh id: the worst case is leftovers that rtpengine's own
 * timeout reclaims.
 */
export function loadOrCreateInstanceId(dataDir: string): string {
  const path = join(dataDir, INSTANCE_ID_FILE);
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (ID.test(stored)) return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomBytes(6).toString('hex');
  writeFileSync(path, `${id}\n`);
  return id;
}
