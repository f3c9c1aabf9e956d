import { describe, expect, it } from 'vitest';
import { page, pageSchema, paginationQuery } from './pagination.js';
import { z } from '@hono/zod-openapi';

const q = paginationQuery(['number', 'created_at'], 'number');

describe('paginationQuery', () => {
  it('defaults limit 50, offset 0 and the default sort', () => {
    expect(q.parse({})).toEqual({ limit: 50, offset: 0, sort: { field: 'number', direction: 'asc' } });
  });

  it('coerces query strings and parses -field as descending', () => {
    expect(q.parse({ limit: '500', offset: '10', sort: '-created_at' })).toEqual({
      limit: 500,
      offset: 10,
      sort: { field: 'created_at', direction: 'desc' },
    });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '501' }, 'limit'],
    [{ limit: '1.5' }, 'limit'],
    [{ offset: '-1' }, 'offset'],
    [{ sort: 'password' }, 'sort'],
    [{ sort: '-' }, 'sort'],
  ])('rejects %o naming %s', (input, field) => {
    const r = q.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual([field]);
  });
});

describe('page', () => {
  it('computes has_more from offset, page length and total', () => {
    expect(page([1, 2], { limit: 2, offset: 0 }, 3).pagination).toEqual({ limit: 2, offset: 0, total: 3, has_more: true });
    expect(page([3], { limit: 2, offset: 2 }, 3).pagination.has_more).toBe(false);
    expect(page([], { limit: 2, offset: 10 }, 3).pagination.has_more).toBe(false);
  });

  it('matches pageSchema', () => {
    const schema = pageSchema(z.object({ id: z.string() }));
    expect(schema.safeParse(page([{ id: 'a' }], { limit: 1, offset: 0 }, 1)).success).toBe(true);
  });
});
