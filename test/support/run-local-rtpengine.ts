// Starts a supervised rtpengine and prints its pid, then idles: a stand-in for a Switchboard
// process that the death-watch test kills with SIGKILL.
import { pino } from 'pino';
import { startLocalRtpengine } from '../../src/media/rtpengine/local-rtpengine.js';

const [binary = 'rtpengine', portMin = '40000'] = process.argv.slice(2);
const rtpengine = await startLocalRtpengine({ binary, ngPort: 0, portMin: Number(portMin), portMax: Number(portMin) + 99, interface: '127.0.0.1', log: pino({ level: 'silent' }) });
process.stdout.write(`${JSON.stringify({ pid: rtpengine.pid })}\n`);
setInterval(() => {}, 60_000);
