/**
 * The pages the proxy answers itself (nothing deployed, nothing healthy, upstream failed): short,
 * never cached, plain text for tools and a small HTML page for browsers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type PageStatus = 404 | 502 | 503 | 504;

const TITLES: Record<PageStatus, string> = {
  404: '404 Not Found',
  502: '502 Bad Gateway',
  503: '503 Service Unavailable',
  504: '504 Gateway Timeout',
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The body and content type of a page, for a client that accepts `accept`. */
export function pageBody(status: PageStatus, message: string, accept: string | undefined): { type: string; body: string } {
  const title = TITLES[status];
  if (accept?.includes('text/html')) {
    const body = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body style="font-family:system-ui,sans-serif;max-width:40em;margin:4em auto"><h1>${title}</h1><p>${escapeHtml(message)}</p><p><small>Rewind agent</small></p></body></html>\n`;
    return { type: 'text/html; charset=utf-8', body };
  }
  return { type: 'text/plain; charset=utf-8', body: `${title}\n\n${message}\n` };
}

export function errorPage(req: IncomingMessage, res: ServerResponse, status: PageStatus, message: string): void {
  const { type, body } = pageBody(status, message, req.headers.accept);
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(status === 503 ? { 'retry-after': '2' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
