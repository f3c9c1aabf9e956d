import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './env.js';
import { ErrorCodes, errorResponse } from './errors.js';
import { OPENAPI_PATH } from './openapi.js';
import { defineRoute, errorResponses, registerRoute } from './route-registry.js';

/** Interactive API docs (issue 3 §2): Swagger UI on our own OpenAPI document. */
export const DOCS_PATH = '/api/v1/docs';
export const DOCS_ASSETS_PATH = `${DOCS_PATH}/assets`;

/** Our initializer's file name among the assets (the only script that is ours). */
export const DOCS_INIT_FILE = 'switchboard-docs.js';

/**
 * The only swagger-ui-dist files we serve, with their content types. An allow-list (not a
 * directory mount) so nothing else of node_modules can be read, whatever the path says.
 */
const SWAGGER_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/**
 * Starts Swagger UI once its scripts are loaded. It is a file, not an inline script, so the page's
 * CSP can forbid inline scripts altogether.
 * - `validatorUrl: null`: by default Swagger UI shows a badge whose image comes from
 *   validator.swagger.io with our document's URL in the query; a PBX's docs must not call out.
 * - `persistAuthorization` stays off: an API key typed into "Authorize" is not kept in localStorage.
 * - `queryConfigEnabled` stays off (its default): `?url=` cannot point the page at another document.
 */
const INIT_SCRIPT = `'use strict';
// Switchboard API docs: Swagger UI on the local OpenAPI document; nothing is fetched from elsewhere.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout'
  });
});
`;

/**
 * The page's Content-Security-Policy: everything from this origin only, which is also what proves
 * that loading the docs sends nothing off the machine. Swagger UI needs inline styles (its React
 * components and the highlighter set them) and data: images (icons in its CSS); no eval, no inline
 * scripts, no frames.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Assets never change under a given URL (each carries a version), so browsers may keep them a year. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Where swagger-ui-dist lives; resolved from this module so it works from src/ (tsx) and dist/. */
function swaggerDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** The installed swagger-ui-dist version, for cache-busting asset URLs after an upgrade. */
let swaggerVersion: Promise<string> | undefined;
function swaggerUiVersion(): Promise<string> {
  swaggerVersion ??= readFile(join(swaggerDir(), 'package.json'), 'utf8').then((s) => String((JSON.parse(s) as { version?: unknown }).version ?? '0'));
  return swaggerVersion;
}

/** Files are read once and kept (≈1.5 MB in all): the docs are rarely opened, but then quickly. */
const fileCache = new Map<string, Promise<Buffer>>();
function readSwaggerFile(name: string): Promise<Buffer> {
  let cached = fileCache.get(name);
  if (!cached) {
    cached = readFile(join(swaggerDir(), name));
    // A failed read (package missing) is not cached, so a later fix is picked up without restart.
    cached.catch(() => fileCache.delete(name));
    fileCache.set(name, cached);
  }
  return cached;
}

const initVersion = createHash('sha256').update(INIT_SCRIPT).digest('hex').slice(0, 12);

/** The HTML page; every URL in it is a path on this origin. */
export async function docsHtml(): Promise<string> {
  const v = encodeURIComponent(await swaggerUiVersion());
  const asset = (file: string, version = v) => `${DOCS_ASSETS_PATH}/${file}?v=${version}`;
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>Switchboard API</title>
    <link rel="stylesheet" href="${asset('swagger-ui.css')}">
    <link rel="icon" type="image/png" href="${asset('favicon-32x32.png')}" sizes="32x32">
    <link rel="icon" type="image/png" href="${asset('favicon-16x16.png')}" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${asset('swagger-ui-bundle.js')}"></script>
    <script src="${asset('swagger-ui-standalone-preset.js')}"></script>
    <script src="${asset(DOCS_INIT_FILE, initVersion)}"></script>
  </body>
</html>
`;
}

/** Every file name the assets route answers (for tests and the README). */
export const DOCS_ASSET_FILES: readonly string[] = [...Object.keys(SWAGGER_FILES), DOCS_INIT_FILE];

/** The initializer's source, for tests that check its URLs. */
export const docsInitScript = (): string => INIT_SCRIPT;

export const docsPageRoute = defineRoute({
  method: 'get',
  path: DOCS_PATH,
  scope: 'public',
  tags: ['docs'],
  summary: 'Interactive API docs (Swagger UI), served entirely by this server',
  responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
});

export const docsAssetRoute = defineRoute({
  method: 'get',
  path: `${DOCS_ASSETS_PATH}/{file}`,
  scope: 'public',
  tags: ['docs'],
  summary: 'A static file of the docs page (Swagger UI scripts, styles, icons)',
  request: { params: z.object({ file: z.string().openapi({ example: 'swagger-ui.css' }) }) },
  responses: {
    200: {
      description: 'the file',
      content: {
        'text/css': { schema: z.string() },
        'text/javascript': { schema: z.string() },
        'image/png': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    ...errorResponses([404]),
  },
});

/**
 * `GET /api/v1/docs` and its assets, all public: docs must open before anyone has a key, and the
 * document itself is public already. Nothing here depends on the network: PBXs are often offline.
 */
export function registerDocsPage(app: OpenAPIHono<ApiEnv>): void {
  registerRoute(app, docsPageRoute, async (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    // The page names versioned asset URLs, so it must be revalidated to pick up new ones.
    c.header('Cache-Control', 'no-cache');
    return c.html(await docsHtml(), 200);
  });
  registerRoute(app, docsAssetRoute, async (c) => {
    const { file } = c.req.valid('param');
    let content: string | Buffer;
    let type: string;
    if (file === DOCS_INIT_FILE) {
      content = INIT_SCRIPT;
      type = 'text/javascript; charset=utf-8';
    } else if (Object.hasOwn(SWAGGER_FILES, file)) {
      content = await readSwaggerFile(file);
      type = SWAGGER_FILES[file] as string;
    } else {
      return errorResponse(c, 404, ErrorCodes.NOT_FOUND, `no docs asset named ${JSON.stringify(file)}`);
    }
    c.header('Content-Type', type);
    c.header('Cache-Control', ASSET_CACHE_CONTROL);
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(typeof content === 'string' ? content : new Uint8Array(content), 200);
  });
}
