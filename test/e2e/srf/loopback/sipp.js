'use strict';
// Loopback replacement for drachtio-srf's test/sipp.js (copied over it at run time by
// test/e2e/srf/run.mjs). Same exported API: require('./sipp')(networkName) returns
// { output, sippUac, sippUas }. Instead of `docker run drachtio/sipp` it spawns the local sipp
// bound to 127.0.0.1 on a port of its own; the docker network name is accepted and ignored.
//
// Differences from the docker version, all in process start-up:
//  * -i 127.0.0.1 -p <port> -mp <port> -cp <port>: unique SIP, media and control ports per sipp
//    (refer.js runs two UACs at once; sipp's default 5060 is the SUT's port); a UAC skips ports
//    that something else on the host holds;
//  * UAC target 127.0.0.1:<SUT SIP port> instead of the container name drachtio-sut;
//  * sippUas(file, containerName) listens on the port the testbed maps that name to;
//  * -timeout 60s -timeout_error: a sipp that is never answered fails after 60 s instead of
//    hanging (the longest scenario, uac-drop-all-200.xml, takes about 33 s);
//  * -trace_err/-trace_msg write each sipp's messages to the logs directory;
//  * sipp processes still running when this process exits are killed.
const { spawn } = require('child_process');
const path = require('path');
const { HOST, plan, sippAuxPorts, sippTraceArgs, defaultLogsDir, portsInUse } = require('./loopback/testbed');

const obj = {};
let output = '';
let idx = 1;
let nextUacPort = plan.uacPortBase + 1;
const children = new Set();
const label = process.env.SRF_LOOPBACK_LABEL || 'srf';
const sutTarget = `${HOST}:${plan.engines.sut.sipPort}`;
const SIPP_TIMEOUT = ['-timeout', '60s', '-timeout_error'];

process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function clearOutput() {
  output = '';
}

function addOutput(str) {
  for (let i = 0; i < str.length; i++) {
    if (str.charCodeAt(i) < 128) output += str.charAt(i);
  }
}

module.exports = (networkName) => {
  void networkName; // docker network name: unused on loopback
  return obj;
};

obj.output = () => {
  return output;
};

function localArgs(port) {
  const { mp, cp } = sippAuxPorts(port);
  return ['-i', HOST, '-p', String(port), '-mp', String(mp), '-cp', String(cp)];
}

function portsTaken(port) {
  const { mp, cp } = sippAuxPorts(port);
  return portsInUse({ udp: [port, mp, mp + 2, cp] });
}

/** Next UAC SIP port whose SIP, media and control ports are all free (others' sipps share the host). */
function allocUacPort() {
  for (let tries = 0; tries < 100; tries++) {
    const port = nextUacPort++;
    if (portsTaken(port).length === 0) return port;
  }
  throw new Error(`loopback sipp.js: no free UAC port found from ${plan.uacPortBase}`);
}

obj.sippUac = (file) => {
  const n = idx++;
  const port = allocUacPort();
  const args = [
    '-sf', path.join(__dirname, 'scenarios', file),
    ...localArgs(port),
    '-m', '1',
    '-sleep', '250ms',
    '-nostdin',
    '-cid_str', `%u-%p@%s-${n}`,
    ...SIPP_TIMEOUT,
    ...sippTraceArgs(defaultLogsDir(), `${label}-uac-${n}-${path.basename(file, '.xml')}`),
    sutTarget,
  ];

  clearOutput();
  return runSipp(args);
};

// Run a sipp UAS for one call on the loopback port mapped from the docker container name, so the
// SUT can route a B-leg INVITE to it. Resolves when the scenario completes (exit 0).
obj.sippUas = (file, containerName) => {
  const port = plan.onDemandUas[containerName];
  if (!port) {
    return Promise.reject(new Error(`loopback sipp.js: no port mapped for UAS '${containerName}' ` +
      '(add it to onDemandUas in test/e2e/srf/loopback/testbed.js)'));
  }
  const taken = portsTaken(port);
  if (taken.length) {
    return Promise.reject(new Error(`loopback sipp.js: ports for UAS '${containerName}' already in use: ${taken.join(', ')}`));
  }
  const args = [
    '-sf', path.join(__dirname, 'scenarios', file),
    ...localArgs(port),
    '-m', '1',
    '-nostdin',
    ...SIPP_TIMEOUT,
    ...sippTraceArgs(defaultLogsDir(), `${label}-uas-${containerName}`),
    // no target host: UAS listens for incoming calls
  ];

  return runSipp(args);
};

function runSipp(args) {
  return new Promise((resolve, reject) => {
    const child_process = spawn('sipp', args, { cwd: defaultLogsDir(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child_process);

    child_process.on('exit', (code, signal) => {
      children.delete(child_process);
      if (code === 0) {
        return resolve();
      }
      console.log(`sipp exited with non-zero code ${code} signal ${signal}`);
      reject(code);
    });
    child_process.on('error', (error) => {
      children.delete(child_process);
      console.log(`error spawning sipp: ${error.message} (args: ${args.join(' ')})`);
      reject(error);
    });

    child_process.stdout.on('data', (data) => {
      addOutput(data.toString());
    });
    child_process.stderr.on('data', (data) => {
      addOutput(data.toString());
    });
  });
}
