import Srf from 'drachtio-srf';
import type { Logger } from '../obs/logger.js';
import { connectToEngine, type EngineConnection, type EngineEndpoint, type EngineInfo } from './connection.js';
import { answerOptions, type SipCapabilities } from './options-responder.js';
import { registerRegistrar, type RegistrarDeps, type RunningRegistrar } from './registrar/registrar.js';
import { registerCalls, type CallsDeps, type RunningCalls } from './calls/index.js';

/**
 * What the app answers today. Grows as features land: the registrar adds REGISTER, calls add
 * INVITE/ACK/BYE/CANCEL and the extensions they support.
 */
export const currentCapabilities: SipCapabilities = {
  allow: ['OPTIONS'],
  accept: ['application/sdp'],
  supported: [],
};

/** The running drachtio-srf application. */
export interface SipApp {
  readonly engine: EngineInfo;
  /**
   * Start answering REGISTER (needs the store, which is seeded only once the engine's address is
   * known, hence after connecting; srf announces the new route to the engine at once).
   */
  startRegistrar(deps: RegistrarDeps): Promise<RunningRegistrar>;
  /** Start answering INVITE (after the registrar: calls go to its live bindings). */
  startCalls(deps: CallsDeps): RunningCalls;
  stop(): Promise<void>;
}

/**
 * Build the srf app (handlers first, so their routes go out with the first authentication),
 * connect it to the engine and wait until the engine has accepted it.
 *
 * @throws the engine's refusal (wrong secret); connection failures are retried, not thrown.
 */
export async function startSipApp(endpoint: EngineEndpoint, log: Logger): Promise<SipApp> {
  const srf = new Srf();
  let caps: SipCapabilities = currentCapabilities;
  answerOptions(srf, () => caps, log.child({ component: 'options' }));
  const connection: EngineConnection = connectToEngine(srf, endpoint, log);
  try {
    const engine = await connection.ready;
    let registrar: RunningRegistrar | undefined;
    return {
      engine,
      async startRegistrar(deps: RegistrarDeps) {
        caps = { ...caps, allow: [...caps.allow, 'REGISTER'] };
        registrar = await registerRegistrar(srf, deps);
        return registrar;
      },
      startCalls(deps: CallsDeps) {
        // ACK, BYE and CANCEL are handled by srf's dialogs and the engine's transactions.
        caps = { ...caps, allow: [...caps.allow, 'INVITE', 'ACK', 'BYE', 'CANCEL'] };
        return registerCalls(srf, deps);
      },
      // The registrar first: its pending binding writes must reach the store before it closes.
      async stop() {
        await registrar?.stop();
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
