import { describe, expect, it } from 'vitest';
import type { RegistrationChange } from '../../store/index.js';
import { BindingWriter } from './binding-writer.js';

const del = (contactUri: string): RegistrationChange => ({ kind: 'delete', extensionId: 'e', contactUri });

describe('BindingWriter (group commit)', () => {
  it('commits the writes of one turn as one batch, and later ones in the next, in order', async () => {
    const batches: string[][] = [];
    const writer = new BindingWriter(async (changes) => {
      batches.push(changes.map((c) => (c.kind === 'delete' ? c.contactUri : '?')));
      await new Promise((r) => setTimeout(r, 5));
    });
    const first = [writer.write([del('a')]), writer.write([del('b'), del('c')])];
    await new Promise((r) => setImmediate(r));
    // While the first batch commits, more requests queue up for the next one.
    const second = [writer.write([del('d')]), writer.write([del('e')])];
    await Promise.all([...first, ...second]);
    expect(batches).toEqual([['a', 'b', 'c'], ['d', 'e']]);
  });

  it('fails only the unit whose changes cannot be written', async () => {
    const writer = new BindingWriter(async (changes) => {
      if (changes.some((c) => c.kind === 'delete' && c.contactUri === 'bad')) throw new Error('INVALID_REFERENCE');
    });
    const good = writer.write([del('ok')]);
    const bad = writer.write([del('bad')]);
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('INVALID_REFERENCE');
    await writer.drain();
  });

  it('resolves an empty write at once', async () => {
    const writer = new BindingWriter(() => Promise.reject(new Error('not called')));
    await expect(writer.write([])).resolves.toBeUndefined();
  });
});

describe('BindingWriter.barrier', () => {
  it('resolves once the units queued before it are committed', async () => {
    const done: string[] = [];
    const writer = new BindingWriter(async (changes) => {
      await new Promise((r) => setTimeout(r, 5));
      for (const c of changes) if (c.kind === 'delete') done.push(c.contactUri);
    });
    await writer.barrier();
    void writer.write([del('x')]);
    await writer.barrier();
    expect(done).toEqual(['x']);
  });
});
