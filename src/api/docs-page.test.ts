import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_ASSET_FILES, DOCS_INIT_FILE, DOCS_PATH, docsInitScript } from './docs-page.js';
import { OPENAPI_PATH } from './openapi.js';
import { testApiWithStore } from './test-helpers.js';

/** Any origin will do: the point is that every URL resolves to the page's own one. */
const ORIGIN = 'http://switchboard.invalid';

/** The content type each kind of asset must be served with (browsers refuse scripts sent otherwise under nosniff). */
const TYPE_BY_EXTENSION: Record<string, RegExp> = {
  css: /^text\/css\b/,
  js: /^text\/javascript\b/,
  png: /^image\/png$/,
};

/** Source expressions a CSP directive may contain without naming a host. */
const LOCAL_SOURCES = new Set(["'self'", "'none'", "'unsafe-inline'", 'data:']);

let api: Awaited<ReturnType<typeof testApiWithStore>>;
beforeAll(async () => {
  // The full app with API-key auth: the docs must open without a key.
  api = await testApiWithStore();
});
afterAll(() => api.close());

const get = (path: string) => api.app.request(path);
const urlsIn = (html: string) => [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1] as string);

describe(`GET ${DOCS_PATH}`, () => {
  it('is a public HTML page running Swagger UI, not cached', async () => {
    const res = await get(DOCS_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html\b/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui">');
    expect(html).toContain('swagger-ui-bundle.js');
  });

  it('names only same-origin relative URLs, and no http(s):// URL at all', async () => {
    const html = await (await get(DOCS_PATH)).text();
    const urls = urlsIn(html);
    expect(urls.length).toBeGreaterThanOrEqual(6);
    for (const u of urls) {
      expect(u, u).toMatch(/^\/(?!\/)/); // a path, not protocol-relative `//host`
      expect(new URL(u, `${ORIGIN}${DOCS_PATH}`).origin).toBe(ORIGIN);
    }
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // no inline script
    expect(html).not.toMatch(/\son[a-z]+\s*=/i); // no inline event handlers
  });

  it('serves every asset it references with the right content type and a long cache life', async () => {
    const html = await (await get(DOCS_PATH)).text();
    const assets = urlsIn(html);
    const files = new Set(assets.map((u) => new URL(u, ORIGIN).pathname.split('/').pop()));
    expect([...files].sort()).toEqual([...DOCS_ASSET_FILES].sort());
    for (const u of assets) {
      const res = await get(u);
      expect(res.status, u).toBe(200);
      const ext = new URL(u, ORIGIN).pathname.split('.').pop() as string;
      expect(res.headers.get('content-type'), u).toMatch(TYPE_BY_EXTENSION[ext] as RegExp);
      expect(res.headers.get('cache-control'), u).toMatch(/max-age=31536000/);
      expect(res.headers.get('x-content-type-options'), u).toBe('nosniff');
      expect((await res.arrayBuffer()).byteLength, u).toBeGreaterThan(100);
    }
  });

  it('serves the swagger-ui-dist files byte for byte', async () => {
    const dir = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json').replace(/package\.json$/, '');
    const res = await get(`${DOCS_PATH}/assets/swagger-ui-bundle.js`);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(`${dir}swagger-ui-bundle.js`))).toBe(true);
  });

  it('has an initializer that only names this origin and turns off the remote validator badge', async () => {
    const res = await get(`${DOCS_PATH}/assets/${DOCS_INIT_FILE}`);
    const js = await res.text();
    expect(js).toBe(docsInitScript());
    expect(js).not.toMatch(/https?:\/\//i);
    expect(js).not.toMatch(/["']\/\//); // no protocol-relative URL either
    // Swagger UI's default validatorUrl is https://validator.swagger.io/validator, loaded as an image.
    expect(js).toMatch(/validatorUrl:\s*null/);
    const urls = [...js.matchAll(/url:\s*["']([^"']+)["']/g)].map((m) => m[1] as string);
    expect(urls).toEqual([OPENAPI_PATH]);
    for (const u of urls) expect((await get(u)).status).toBe(200);
  });

  it('sends a CSP that allows this origin only, with no inline or eval scripts', async () => {
    const csp = (await get(DOCS_PATH)).headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((parts) => parts[0])
        .map(([name, ...sources]) => [name as string, sources]),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    for (const [name, sources] of directives) {
      for (const s of sources) expect(LOCAL_SOURCES.has(s), `${name} ${s}: not a local source`).toBe(true);
    }
    expect(directives.get('script-src')).toEqual(["'self'"]);
    // Each fetch directive left out falls back to default-src 'self'; the ones present must not widen it.
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
  });

  it('answers 404 for anything outside the allow-list, traversal included', async () => {
    for (const file of ['index.html', 'swagger-ui.css.map', 'package.json', '..%2Fpackage.json', '..%2F..%2Fpackage.json', 'constructor', '__proto__']) {
      const res = await get(`${DOCS_PATH}/assets/${file}`);
      expect(res.status, file).toBe(404);
      expect((await res.json()) as unknown).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    expect((await get(`${DOCS_PATH}/assets/../../../package.json`)).status).toBe(404);
  });
});
