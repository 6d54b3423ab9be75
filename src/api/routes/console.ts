import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/engine.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain read-only overview at `/` until the React console lands (issue 6). */
export function consoleRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    const apps = await engine.apps();
    const rows = apps
      .flatMap((a) =>
        a.environments.map(
          (e) =>
            `<tr><td>${esc(a.name)}</td><td>${esc(e.name)}</td><td>${esc(e.activeRelease ?? '—')}</td><td>${esc(e.health)}</td><td><a href="${esc(e.url)}">${esc(e.url)}</a></td></tr>`,
        ),
      )
      .join('');
    const body = apps.length
      ? `<table><thead><tr><th>App</th><th>Environment</th><th>Release</th><th>Health</th><th>URL</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<p>No apps yet. Deploy the example:</p><pre>rewind apps create hello\nrewind deploy examples/hello -a hello</pre>`;
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rewind</title><style>body{font:15px system-ui;margin:2rem}td,th{padding:.3rem .8rem;text-align:left}</style></head><body><h1>Rewind</h1>${body}<p><a href="/api/openapi.json">API (OpenAPI)</a></p></body></html>`,
      );
  });
}
