// The declared rewrites that move drachtio-srf's integration tests from the docker testbed to
// loopback. Only hostnames, IPs and ports change, plus one XML escape that sipp 3.6.1 needs and
// that leaves the scenario's meaning unchanged (end of the table). Each entry names the file
// (relative to the copied package), the exact search string, its replacement and how many times
// the search string must occur. run.mjs fails when a count differs, so a new drachtio-srf version cannot silently
// change what runs. The replacement of the process start-up files (test/sipp.js,
// test/docker_start.js, test/docker_stop.js) is not a rewrite: see loopback/.
//
// Every search string includes its quotes, so 'sip:sipp-uas' cannot match 'sip:sipp-uas-prack'.

/** drachtio-srf version the table was written against (run.mjs prints a note for another one). */
export const SRF_VERSION = '5.0.29';

/**
 * @param {import('./loopback/testbed.js').plan} plan
 * @returns {{file:string, search:string, replace:string, count:number, target:string|null, why:string}[]}
 */
export function buildRewrites(plan) {
  const ip = (name) => `${plan.host}:${plan.uas[name].port}`;
  // Hostname targets of the digest cases stay hostnames: srf pins the retry to the challenger
  // (routeUri sip:<source ip>:<port>) only when the next hop is not an IP literal.
  const host = (name) => `localhost:${plan.uas[name].port}`;
  const sipUri = (file, name, count, why = 'sipp UAS container name → its loopback port') => ({
    file, search: `'sip:${name}'`, replace: `'sip:${ip(name)}'`, count, target: name, why,
  });
  const sipIp = (file, dockerIp, name, why) => ({
    file, search: `'sip:${dockerIp}'`, replace: `'sip:${ip(name)}'`, count: 1, target: name, why,
  });
  const sipHost = (file, name, count) => ({
    file, search: `'sip:${name}'`, replace: `'sip:${host(name)}'`, count, target: name,
    why: 'hostname target of a digest case → localhost:<port> (keeps the challenger-pinning path)',
  });

  return [
    // test/b2b.js: the B legs of createB2BUA
    sipUri('test/b2b.js', 'sipp-uas-prack', 1),
    sipUri('test/b2b.js', 'sipp-uas', 10),
    sipUri('test/b2b.js', 'sipp-uas-cancel', 1),
    sipUri('test/b2b.js', 'sipp-uas-404', 3),
    {
      file: 'test/b2b.js', search: "'sipp-uas-200-ok-no-contact-cancel'",
      replace: `'${ip('sipp-uas-200-ok-no-contact-cancel')}'`, count: 1, target: 'sipp-uas-200-ok-no-contact-cancel',
      why: 'bare container name (srf adds sip:) → 127.0.0.1:<port>',
    },
    {
      file: 'test/b2b.js', search: "'sip:sipp-uas-b-teardown'",
      replace: `'sip:${plan.host}:${plan.onDemandUas['sipp-uas-b-teardown']}'`, count: 1, target: 'sipp-uas-b-teardown',
      why: "3pcc case: the B leg goes to the UAS the test starts with sippUas('uas.xml', 'sipp-uas-b-teardown'); sipp.js maps that name to the same port",
    },
    sipUri('test/b2b.js', 'sipp-uas-fast-reinvite', 1),

    // test/uac.js: srf is the UAC
    sipUri('test/uac.js', 'sipp-uas-prack', 1),
    sipUri('test/uac.js', 'sipp-uas-302', 1),
    sipUri('test/uac.js', 'sipp-uas', 5),
    sipUri('test/uac.js', 'sipp-uas-reinvite-overlap', 1),
    sipIp('test/uac.js', '172.29.0.25', 'sipp-uas-reinvite-with-auth', 'docker IP of sipp-uas-reinvite-with-auth → its loopback port'),
    sipHost('test/uac.js', 'sipp-uas-auth', 1),
    sipUri('test/uac.js', 'sipp-uas-407-no-auth-header', 1),
    sipIp('test/uac.js', '172.29.0.15', 'sipp-uas-auth', 'docker IP of sipp-uas-auth → its loopback port (IP-literal digest case)'),
    sipIp('test/uac.js', '172.29.0.24', 'sipp-uas-bye-with-auth', 'docker IP of sipp-uas-bye-with-auth → its loopback port'),
    sipHost('test/uac.js', 'sipp-uas-auth-register', 3),
    sipHost('test/uac.js', 'sipp-uas-auth-register-no-realm', 1),
    sipUri('test/uac.js', 'sipp-uas-cancel', 1),
    sipUri('test/uac.js', 'sipp-uas-fast-update', 1),

    // test/proxy.js: proxyRequest destination (srf adds sip:)
    {
      file: 'test/proxy.js', search: "'sipp-uas'", replace: `'${ip('sipp-uas')}'`, count: 2, target: 'sipp-uas',
      why: 'proxy destination container name → 127.0.0.1:<port>',
    },

    // test/scripts/refer-b2b.js: B2BUA towards the second server
    {
      file: 'test/scripts/refer-b2b.js', search: "'172.29.0.19'",
      replace: `'${plan.host}:${plan.engines.uas.sipPort}'`, count: 1, target: 'drachtio-uas',
      why: 'docker IP of the second server (drachtio-uas) → its loopback SIP port',
    },

    // test/scenarios/uas-302.xml: the redirect target is the sipp-uas container
    {
      file: 'test/scenarios/uas-302.xml', search: 'Contact: <sip:172.29.0.13>',
      replace: `Contact: <sip:${ip('sipp-uas')}>`, count: 1, target: 'sipp-uas',
      why: '302 Contact: docker IP of sipp-uas → its loopback port',
    },

    // sipp 3.6.1 compatibility, not an address change: the docker image's sipp accepts a raw '<'
    // in an attribute value, sipp 3.6.1 rejects the whole file ("Unexpected </action> (expected
    // </ereg>)", "Invalid XML in scenario"). The XML escape gives sipp the identical regexp.
    ...[
      ['test/scenarios/uas-reinvite.xml', 1],
      ['test/scenarios/uas-reinvite-with-auth.xml', 2],
      ['test/scenarios/uas-update-with-sdp.xml', 1],
    ].map(([file, count]) => ({
      file, search: 'regexp="<sip:(.*)>"', replace: 'regexp="&lt;sip:(.*)&gt;"', count, target: null,
      why: 'XML-escape a raw < and > in an <ereg regexp> attribute (same regexp; sipp 3.6.1 rejects the raw form)',
    })),
  ];
}

/**
 * Patterns that must not survive the rewrite in the copied test sources: docker IPs, bare
 * `sip:<host>` targets without a port, and quoted container names. A line calling sippUas( may
 * keep its container name (sipp.js maps it to a port).
 */
export const RESIDUE = {
  files: /^test\/(?:[^/]+\.js|scripts\/[^/]+\.js|scenarios\/[^/]+\.xml)$/,
  patterns: [
    /172\.29\.\d{1,3}\.\d{1,3}/,
    /(['"`])sips?:[A-Za-z][\w.-]*\1/,
    /(['"`])sipp-[\w-]+\1/,
  ],
  allowLine: (line) => line.includes('sippUas('),
};
