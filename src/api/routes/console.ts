import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../engine/engine.js';

/** Where `npm run build:web` puts the console: dist/web, next to this file's dist/api/routes. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rewind</title></head>
<body style="font:15px system-ui;margin:2rem"><h1>Rewind</h1><p>The web console is not built. Run <code>npm run build</code> (or <code>npm start</code>), then reload.</p>
<p>The API is up: <a href="/api/openapi.json">/api/openapi.json</a></p></body></html>`;

/** `/api`, `/API/x`, `//api/x`, `/%61pi/x`: any spelling of a path under the API. */
function apiLike(url: string): boolean {
  let path = url.split('?')[0];
  try {
    path = decodeURIComponent(path);
  } catch {
    return true;
  }
  return /^\/+api(\/|$)/i.test(path);
}

/**
 * The React console at `/`: files of dist/web, and index.html for every other path (client routes),
 * never for `/api/…`, whose unknown paths keep the API's JSON 404.
 */
export function consoleRoutes(app: FastifyInstance, _engine?: Engine, dir: string = CONSOLE_DIR): void {
  const root = resolve(dir);
  const send = async (reply: FastifyReply, file: string, cache: string) => {
    const body = await readFile(file);
    return (
      reply
        .type(TYPES[extname(file)] ?? 'application/octet-stream')
        .header('cache-control', cache)
        .header('x-content-type-options', 'nosniff')
        // The console is never framed by another site (clickjacking a Roll back button).
        .header('x-frame-options', 'DENY')
        .header('content-security-policy', "frame-ancestors 'none'")
        .header('referrer-policy', 'no-referrer')
        .send(body)
    );
  };
  const index = async (reply: FastifyReply) => {
    try {
      return await send(reply, resolve(root, 'index.html'), 'no-cache');
    } catch {
      return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    }
  };

  // Public: the files hold no data; every call they make to /api needs the login cookie. A path
  // that only looks like the console's (/API/…, //api/…) is a 404, after authentication.
  app.get('/*', { config: { public: (req) => !apiLike(req.url) }, schema: { hide: true } }, async (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0]);
    } catch {
      return reply.callNotFound();
    }
    if (apiLike(path)) return reply.callNotFound();
    // Client routes (/apps/shop/releases) have no extension: they all get the app shell.
    if (!extname(path)) return index(reply);
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep)) return reply.callNotFound();
    try {
      // Vite names assets by content hash: they never change under the same name.
      return await send(reply, file, path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    } catch {
      return reply.callNotFound();
    }
  });
}
