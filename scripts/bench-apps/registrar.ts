/**
 * Bench app: a minimal drachtio-srf registrar. REGISTER → 200 (bindings kept in memory, keyed by
 * the To URI, echoed back with their expiry), OPTIONS → 200. Runs in its own process so its CPU is
 * measured apart from the engine's.
 *
 *   node --import tsx scripts/bench-apps/registrar.ts --port 9022 --secret cymru
 */
import Srf from 'drachtio-srf';
import { connectApp, type Handler } from './connect.js';

const bindings = new Map<string, { contact: string; expires: number; at: number }>();

const register: Handler = (req, res) => {
  const aor = req.getParsedHeader('To').uri;
  const contact = req.get('Contact') ?? '';
  const expires = Number.parseInt(req.get('Expires') ?? '3600', 10);
  if (expires === 0) bindings.delete(aor);
  else bindings.set(aor, { contact, expires, at: Date.now() });
  res.send(200, { headers: contact && expires !== 0 ? { Contact: `${contact};expires=${expires}`, Expires: String(expires) } : {} });
};

const options: Handler = (_req, res) => {
  res.send(200, { headers: { Allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER', Accept: 'application/sdp' } });
};

await connectApp(new Srf(), { register, options }, 'registrar');
