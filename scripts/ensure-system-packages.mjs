#!/usr/bin/env node
// Makes sure the Debian packages a test command needs are installed, so that no test skips
// silently for a missing tool. Installs with apt-get as root (or through sudo); where it cannot,
// it fails at once and prints the exact command to run.
//
//   node scripts/ensure-system-packages.mjs sip-tester [other-package…]
import { execFileSync, spawnSync } from 'node:child_process';

/** Debian package → a binary that proves it is installed. */
const probes = {
  'sip-tester': 'sipp',
  'rtpengine-daemon': 'rtpengine',
  'espeak-ng': 'espeak-ng',
  sox: 'sox',
  baresip: 'baresip',
  chromium: 'chromium',
};

const wanted = process.argv.slice(2);
const missing = wanted.filter((pkg) => {
  const bin = probes[pkg] ?? pkg;
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status !== 0;
});
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasSudo = spawnSync('sh', ['-c', 'command -v sudo && sudo -n true'], { stdio: 'ignore' }).status === 0;
const manual = `apt-get update && apt-get install -y ${missing.join(' ')}`;
if (!isRoot && !hasSudo) {
  console.error(`missing system packages: ${missing.join(', ')}\nrun as root:\n  ${manual}`);
  process.exit(1);
}
const prefix = isRoot ? [] : ['sudo', '-n'];
const run = (args) => {
  const [cmd, ...rest] = [...prefix, ...args];
  execFileSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
};
try {
  console.error(`installing system packages: ${missing.join(', ')}`);
  run(['apt-get', 'update', '-q']);
  run(['apt-get', 'install', '-y', '-q', ...missing]);
} catch (err) {
  console.error(`could not install ${missing.join(', ')}: ${err.message}\nrun as root:\n  ${manual}`);
  process.exit(1);
}
