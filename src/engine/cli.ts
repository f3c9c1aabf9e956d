#!/usr/bin/env node
/**
 * Standalone entry of the embedded SIP engine, with drachtio-server's flag names:
 *   switchboard-engine --contact "sip:127.0.0.1:5060;transport=udp,tcp" --port 9022 --secret cymru
 */
import { createLogger } from '../obs/logger.js';
import { ENGINE_VERSION, parseEngineArgs } from './cli-args.js';
import { EngineServer } from './server.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseEngineArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (parsed.help) {
    console.log(parsed.help);
    return;
  }
  if (parsed.showVersion) {
    console.log(ENGINE_VERSION);
    return;
  }
  const log = createLogger({ level: parsed.logLevel, name: 'engine' });
  const engine = new EngineServer(parsed.config, log);
  const addrs = await engine.start();
  log.info(
    { sip: addrs.sip.map((l) => `${l.spec.protocol}/${l.local.address}:${l.local.port}`), admin: `${parsed.config.admin.host}:${addrs.adminPort}` },
    'engine listening',
  );
  // Tell a supervising parent (npm start) that the engine is ready, when there is one.
  process.send?.({ type: 'ready', adminPort: addrs.adminPort, sip: addrs.sip.map((l) => ({ protocol: l.spec.protocol, address: l.local.address, port: l.local.port })) });
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'engine stopping');
    engine.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
