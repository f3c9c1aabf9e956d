'use strict';
// Loopback replacement for drachtio-srf's test/docker_start.js (copied over it at run time by
// test/e2e/srf/run.mjs). Like the original it exports nothing and registers one tape test; instead
// of `docker-compose up` it starts the loopback testbed (two engines and the sipp UASes, see
// loopback/testbed.js). Only srf's own `node test/` flow uses it: run.mjs starts the testbed itself.
const test = require('tape');
const testbed = require('./loopback/testbed');

test('starting loopback testbed..', (t) => {
  t.timeoutAfter(60000);
  testbed.startAll()
    .then(() => {
      t.pass('loopback testbed is up');
      t.end();
    })
    .catch((err) => {
      t.end(err);
    });
});
