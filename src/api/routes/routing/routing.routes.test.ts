import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDialplanPath, loadDialplan, parseDialplan } from '../../../pbx/dialplan/load-dialplan.js';
import { createCallRouter } from '../../../pbx/dialplan/router.js';
import type { Dialplan } from '../../../pbx/dialplan/dialplan.js';
import { wallClock } from '../../../shared/clock.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { createExt, type TestApi } from '../extensions/test-helpers.js';

let t: TestApi;
const useRouter = (dialplan: Dialplan = loadDialplan(defaultDialplanPath())) => {
  const router = createCallRouter({ db: t.db, clock: wallClock, log: pino({ level: 'silent' }), dialplan, calls: { activeCallCount: () => 0 }, ringGroups: undefined });
  t.resources.router = router;
  return router;
};
const simulate = (b: unknown, key?: string) => t.call('POST', '/api/v1/routing/simulate', { body: b, ...(key !== undefined && { key }) });

beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

describe('POST /api/v1/routing/simulate', () => {
  it('shows the ring steps of a forward on no answer, unanswered to the end, with the trace', async () => {
    useRouter();
    await createExt(t, { number: '1001' });
    const bob = await createExt(t, { number: '1002', caller_id_name: 'Bob', forward: { no_answer: '1003', no_answer_seconds: 10 } });
    const carol = await createExt(t, { number: '1003' });
    const res = await simulate({ from: '1001', to: '1002' }, await t.keyFor(['voip:read']));
    expect(res.status).toBe(200);
    const { data } = await body(res);
    expect(data).toMatchObject({
      decision: 'ring',
      sip_status: 480,
      callee: { number: '1002', name: 'Bob', extension_id: bob.id },
      ring_timeout_ms: 55_000,
      steps: [
        { extension_ids: [bob.id], extension_numbers: ['1002'], timeout_ms: 10_000, reason: 'extension 1002' },
        { extension_ids: [carol.id], extension_numbers: ['1003'], timeout_ms: null },
      ],
    });
    expect(data.trace.map((e: { detail: string }) => e.detail)).toEqual(
      expect.arrayContaining([expect.stringMatching(/rule forward-always-on .*no match/), expect.stringMatching(/rule internal .*matched → local/), expect.stringMatching(/forward on no answer → 1003/)]),
    );
  });

  it('answers a reject with its status and reason', async () => {
    useRouter();
    await createExt(t, { number: '1001' });
    await createExt(t, { number: '1002', dnd: true });
    expect((await body(await simulate({ from: '1001', to: '1002' }))).data).toMatchObject({ decision: 'reject', sip_status: 486, reason: 'extension 1002: do not disturb is on', steps: [] });
    expect((await body(await simulate({ from: '1001', to: '1999' }))).data).toMatchObject({ decision: 'reject', sip_status: 404 });
  });

  it('describes a feature code without applying it; the same decision run by a call changes the extension', async () => {
    const router = useRouter();
    const alice = await createExt(t, { number: '1001' });
    const res = await simulate({ from: '1001', to: '*78' });
    expect((await body(res)).data).toMatchObject({ decision: 'feature', feature_code: '*78', sip_status: 200, callee: { number: '*78', name: 'Do not disturb on' } });
    expect((await body(await t.call('GET', `/api/v1/extensions/${alice.id}`))).data.dnd).toBe(false);
    // What the INVITE handler does with the decision: run it. The API shows the change at once.
    const decision = await router.route({ tenantId: t.tenant.id, callerExtensionId: alice.id, dialed: '*78', at: Date.now() });
    if (decision.kind !== 'feature') throw new Error('expected a feature');
    expect(await decision.run()).toEqual({ ok: true });
    expect((await body(await t.call('GET', `/api/v1/extensions/${alice.id}`))).data.dnd).toBe(true);
    const audit = (await body(await t.call('GET', '/api/v1/audit?action=extension.updated'))).data;
    expect(audit[0]).toMatchObject({ actor_type: 'extension', actor_id: alice.id, target_id: alice.id });
  });

  it('evaluates time conditions at `at`', async () => {
    useRouter(
      parseDialplan(
        {
          version: 1,
          time_conditions: { office: { timezone: 'Europe/Berlin', ranges: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] } },
          rules: [
            { name: 'closed', match: '^1002$', unless: 'office', action: { type: 'reject', sip_status: 480, reason: 'the office is closed' } },
            { name: 'internal', match: '^[1-9][0-9]{2,5}$', action: { type: 'local' } },
          ],
        },
        'test.json',
      ),
    );
    await createExt(t, { number: '1001' });
    await createExt(t, { number: '1002' });
    expect((await body(await simulate({ from: '1001', to: '1002', at: '2026-11-23T10:00:00+01:00' }))).data.decision).toBe('ring');
    expect((await body(await simulate({ from: '1001', to: '1002', at: '2026-11-23T19:00:00+01:00' }))).data).toMatchObject({ decision: 'reject', sip_status: 480, reason: 'the office is closed' });
  });

  it('names the field of bad input: 400 for the shape, 422 for an unknown caller', async () => {
    useRouter();
    const bad = await simulate({ from: '1001', at: 'yesterday', extra: 1 });
    expect(bad.status).toBe(400);
    const fields = (await body(bad)).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['to', 'at']));
    const unknown = await simulate({ from: '4242', to: '1002' });
    expect(unknown.status).toBe(422);
    expect((await body(unknown)).error).toMatchObject({ code: 'EXTENSION_NOT_FOUND', details: [{ field: 'from' }] });
  });

  it('answers 503 when no router runs in the process', async () => {
    await createExt(t, { number: '1001' });
    const res = await simulate({ from: '1001', to: '1002' });
    expect(res.status).toBe(503);
    expect((await body(res)).error.code).toBe('ROUTING_UNAVAILABLE');
  });
});
