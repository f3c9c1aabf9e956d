/**
 * Summaries of a V8 `.cpuprofile` (from `node --cpu-prof`) for the benchmarks: where self time
 * went, by function and by module, so a bench run can say what to optimise without a profiler UI.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

function load(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

function ranked(self: Map<string, number>, total: number, top: number): string[] {
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${k}`);
}

/** Top self-time functions as "file:line function" (paths relative to `root`). */
export function hotSpots(file: string, root: string, top = 15): string[] {
  const prof = load(file);
  const self = new Map<string, number>();
  for (const node of prof.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    // tsx-compiled files may report line 1 for everything: the file and function name are what is known.
    const where = url ? `${url.replace(`file://${root}/`, '')}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}` : '(native)';
    const key = `${where} ${functionName || '(anonymous)'}`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return ranked(self, prof.samples.length || 1, top);
}

/**
 * Self time per module: an npm package (`hono`, `kysely`, `better-sqlite3`…), a file of ours
 * (`src/api/app.ts`), `node:` internals, or V8's own buckets (`(garbage collector)`, `(idle)`).
 */
export function hotModules(file: string, root: string, top = 15): string[] {
  const prof = load(file);
  const self = new Map<string, number>();
  for (const node of prof.nodes) {
    const { functionName, url } = node.callFrame;
    let key: string;
    if (!url) key = functionName.startsWith('(') ? functionName : '(native)';
    else if (url.startsWith('node:')) key = 'node: internals';
    else {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
      key = pkg ? (pkg[1] as string) : url.replace(`file://${root}/`, '');
    }
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return ranked(self, prof.samples.length || 1, top);
}
