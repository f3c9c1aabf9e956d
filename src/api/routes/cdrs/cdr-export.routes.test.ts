import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCall, finishCall, iterateCdrs } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { CDR_CSV_COLUMNS } from './cdr-export.routes.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

async function record(o: { start: string; callerName?: string; tenantId?: string; calleeNumber?: string }): Promise<string> {
  const call = await createCall(t.db, {
    tenantId: o.tenantId ?? t.tenant.id, direction: 'internal', callerNumber: '1001', callerName: o.callerName ?? 'Alice',
    calleeNumber: o.calleeNumber ?? '1002', instanceId: 'i', startedAt: o.start,
  });
  return (await finishCall(t.db, call.id, { state: 'BUSY', endedAt: new Date(Date.parse(o.start) + 3000).toISOString(), hangupCause: 'USER_BUSY', sipStatus: 486 })).id;
}

/** RFC 4180 records of a body: enough of a parser for these tests (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += ch;
    }
  }
  return rows;
}

describe('GET /api/v1/cdrs/export', () => {
  it('is a CSV attachment: header row, then the tenant’s filtered records newest first', async () => {
    const older = await record({ start: '2026-11-20T09:00:00.000Z' });
    const newer = await record({ start: '2026-11-21T09:00:00.000Z', callerName: 'Bob, "the builder"' });
    await record({ start: '2026-11-21T10:00:00.000Z', tenantId: t.otherTenant.id });

    const res = await t.call('GET', '/api/v1/cdrs/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="cdrs-\d{8}T\d{6}Z\.csv"$/);
    expect(res.headers.get('x-total-count')).toBe('2');
    expect(res.headers.get('x-export-truncated')).toBeNull();
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...CDR_CSV_COLUMNS]);
    expect(rows.map((r) => r[0])).toEqual([newer, older]);
    const first = Object.fromEntries(header!.map((h, i) => [h, rows[0]![i]]));
    expect(first).toMatchObject({ caller_name: 'Bob, "the builder"', disposition: 'busy', sip_status: '486', answered_at: '', duration_seconds: '3' });

    const filtered = parseCsv(await (await t.call('GET', '/api/v1/cdrs/export?from=2026-11-21T00:00:00Z')).text());
    expect(filtered.slice(1).map((r) => r[0])).toEqual([newer]);
  });

  it('keeps formula-like text as text', async () => {
    await record({ start: '2026-11-21T09:00:00.000Z', callerName: '=HYPERLINK("http://evil","x")', calleeNumber: '+15551234' });
    const [header, row] = parseCsv(await (await t.call('GET', '/api/v1/cdrs/export')).text());
    const cells = Object.fromEntries(header!.map((h, i) => [h, row![i]]));
    expect(cells.caller_name).toBe('\'=HYPERLINK("http://evil","x")');
    expect(cells.callee_number).toBe("'+15551234");
  });

  it('stops at `limit` and says how many matched', async () => {
    for (let i = 0; i < 3; i++) await record({ start: `2026-11-21T0${i}:00:00.000Z` });
    const res = await t.call('GET', '/api/v1/cdrs/export?limit=2');
    expect(res.headers.get('x-export-truncated')).toBe('true');
    expect(res.headers.get('x-total-count')).toBe('3');
    expect(parseCsv(await res.text())).toHaveLength(3);
  });

  it('names the bad query field', async () => {
    for (const [query, field] of [['limit=100001', 'limit'], ['limit=0', 'limit'], ['disposition=maybe', 'disposition'], ['from=yesterday', 'from']] as const) {
      const res = await t.call('GET', `/api/v1/cdrs/export?${query}`);
      expect(res.status).toBe(400);
      expect((await body(res)).error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
  });

  it('reads in batches past ties of start time without repeating or losing a row', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add(await record({ start: '2026-11-21T09:00:00.000Z' }));
    ids.add(await record({ start: '2026-11-21T08:00:00.000Z' }));
    const seen: string[] = [];
    for await (const row of iterateCdrs(t.db, t.tenant.id, {}, { batchSize: 3 })) seen.push(row.id);
    expect(seen).toHaveLength(8);
    expect(new Set(seen)).toEqual(ids);
    const capped: string[] = [];
    for await (const row of iterateCdrs(t.db, t.tenant.id, {}, { batchSize: 3, max: 5 })) capped.push(row.id);
    expect(capped).toEqual(seen.slice(0, 5));
  });
});
