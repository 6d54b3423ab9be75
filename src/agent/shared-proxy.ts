/**
 * The shared port: one listener for every app/env, routed by host name. `APP.localhost` is the
 * app's production environment, `APP.ENV.localhost` another one (browsers resolve *.localhost to
 * the loopback address by themselves).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenLocal, type AppProxy } from './proxy.js';
import { errorPage, pageBody } from './proxy-pages.js';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** The app/env a Host header names, or null when it is not `APP[.ENV].localhost[:port]`. */
export function hostRoute(host: string | undefined): { app: string; env: string } | null {
  if (!host) return null;
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (!name.endsWith('.localhost')) return null;
  const labels = name.slice(0, -'.localhost'.length).split('.');
  const [app, env = 'production'] = labels;
  if (labels.length > 2 || !app || !NAME.test(app) || !NAME.test(env)) return null;
  return { app, env };
}

export function sharedHelp(port: number): string {
  return `this port routes by host name: http://APP.localhost:${port}/ is the production environment of APP, http://APP.ENV.localhost:${port}/ its environment ENV`;
}

/** Finds the main proxy of app/env (its web component). */
export type ProxyLookup = (app: string, env: string) => AppProxy | undefined;

export class SharedProxy {
  readonly #server: Server;
  readonly #find: ProxyLookup;
  #port = 0;

  constructor(find: ProxyLookup) {
    this.#find = find;
    this.#server = createServer({ keepAliveTimeout: 5000 }, (req, res) => this.#handle(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head));
    this.#server.on('clientError', (_err, socket) => socket.destroy());
  }

  get port(): number {
    return this.#port;
  }

  async listen(port: number): Promise<number> {
    this.#port = await listenLocal(this.#server, port);
    return this.#port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  #missing(host: string | undefined): string {
    const route = hostRoute(host);
    return route ? `no app ${route.app} (${route.env}) runs on this agent` : sharedHelp(this.#port);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const route = hostRoute(req.headers.host);
    const proxy = route ? this.#find(route.app, route.env) : undefined;
    if (!proxy) return errorPage(req, res, 404, this.#missing(req.headers.host));
    proxy.handle(req, res);
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const route = hostRoute(req.headers.host);
    const proxy = route ? this.#find(route.app, route.env) : undefined;
    if (proxy) return proxy.upgrade(req, socket, head);
    socket.on('error', () => socket.destroy());
    const { type, body } = pageBody(404, this.#missing(req.headers.host), undefined);
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: ${type}\r\nconnection: close\r\n\r\n${body}`);
  }
}
