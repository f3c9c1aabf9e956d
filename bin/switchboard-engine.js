#!/usr/bin/env node
// `npx switchboard-engine …`: the embedded SIP engine on its own, with drachtio-server's flags
// (see src/engine/cli-args.ts or --help).
//
// The CLI runs in this same process rather than in a spawned child: argv, stdio, signals, the exit
// code and the IPC channel of a parent that forked us (its `ready` message) then need no relaying,
// and nothing can be orphaned. From a source checkout the TypeScript entry is loaded through tsx
// (a dependency of this package, resolved from here, so the working directory does not matter);
// a build without src/ (the Docker image) runs the compiled dist/engine/cli.js with plain node.
import { existsSync } from 'node:fs';

const source = new URL('../src/engine/cli.ts', import.meta.url);
const built = new URL('../dist/engine/cli.js', import.meta.url);

if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  console.error('switchboard-engine: neither src/engine/cli.ts nor dist/engine/cli.js is present (run npm run build)');
  process.exit(1);
}
