/**
 * Bench app: a minimal drachtio-srf UAS. INVITE → srf.createUAS with a fixed SDP answer (200 OK),
 * the caller's BYE ends the dialog (srf answers it). Runs in its own process so its CPU is
 * measured apart from the engine's.
 *
 *   node --import tsx scripts/bench-apps/uas.ts --port 9022 --secret cymru
 */
import Srf from 'drachtio-srf';
import { connectApp, type Handler } from './connect.js';

const localSdp = [
  'v=0',
  'o=switchboard-bench 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

let open = 0;
const srf = new Srf();

const invite: Handler = (req, res) => {
  srf.createUAS(req, res, { localSdp }).then(
    (dialog) => {
      open++;
      dialog.on('destroy', () => open--);
    },
    () => undefined, // cancelled, or the engine refused the answer: nothing to clean up
  );
};

// Open dialogs are reported on exit, so the bench can tell calls that never ended from a clean run.
await connectApp(srf, { invite }, 'uas', () => console.log(JSON.stringify({ app: 'uas', openDialogs: open })));
