'use strict';
// Loopback replacement for drachtio-srf's test/docker_stop.js (copied over it at run time by
// test/e2e/srf/run.mjs): stops every process the replacement docker_start.js started.
const test = require('tape');
const testbed = require('./loopback/testbed');

test('stopping loopback testbed..', (t) => {
  t.timeoutAfter(10000);
  testbed.stopAll()
    .then((left) => {
      if (left.length) console.log(`still running after SIGKILL: ${left.join(', ')}`);
      t.end();
    })
    .catch((err) => t.end(err));
});
