import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/**
 * The template of the route that answered (`/api/v1/api-keys/:id`), for grouping in the request
 * log and as a metrics label: raw paths carry ids, which would make one series per resource.
 * Middleware is registered with method `ALL`, so the last other match is the handler's route.
 * Undefined when no route matched (404 for an unknown path).
 */
export function routeTemplate(c: Context): string | undefined {
  let found: string | undefined;
  for (const r of matchedRoutes(c)) if (r.method !== 'ALL') found = r.path;
  return found;
}
