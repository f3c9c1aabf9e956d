#!/usr/bin/env node
// A stand-in for the rtpengine binary, for supervisor tests: each start takes the next step of
// the JSON plan in $FAKE_RTPENGINE_PLAN ("serve": answer ng ping on --listen-ng until SIGTERM;
// "crash": log an error line and exit 1). Accepts and ignores every other rtpengine option.
import bencode from 'bencode';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';

const planFile = process.env.FAKE_RTPENGINE_PLAN;
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const step = plan.shift() ?? 'serve';
writeFileSync(planFile, JSON.stringify(plan));

if (step === 'crash') {
  process.stderr.write('ERR: [core] fake failure: cannot bind\n');
  process.exit(1);
}
const ng = process.argv.find((a) => a.startsWith('--listen-ng='))?.slice('--listen-ng='.length) ?? '127.0.0.1:2223';
const [host, port] = [ng.slice(0, ng.lastIndexOf(':')), Number(ng.slice(ng.lastIndexOf(':') + 1))];
const socket = createSocket('udp4');
socket.on('message', (msg, from) => {
  const space = msg.indexOf(0x20);
  const req = bencode.decode(msg.subarray(space + 1), 'utf8');
  const reply = req.command === 'ping' ? { result: 'pong' } : { result: 'ok' };
  socket.send(Buffer.concat([msg.subarray(0, space + 1), bencode.encode(reply)]), from.port, from.address);
});
socket.bind(port, host, () => process.stderr.write('INFO: [core] Startup complete\n'));
process.on('SIGTERM', () => process.exit(0));
