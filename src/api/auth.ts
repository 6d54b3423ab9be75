/**
 * Who may talk to the API, checked on the route the router matched (never on the raw URL, which a
 * client can percent-encode): the Host header first (DNS rebinding), then the credential (a bearer
 * token, or the console's cookie), then, for changes, the Origin and the content type (cross-site
 * requests). Unmatched paths under /api are 404s only after all of it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../domain/auth.js';
import { bearerToken, hostNameOf, isIpOrLocalhost } from '../protocol/http-guard.js';
import type { Credential, LoginCodes, Sessions } from './credentials.js';
import { findCredential } from './credentials.js';

export interface AuthOptions {
  /** The credentials the server accepts; with `insecureNoAuth`, none is needed. */
  readonly credentials: readonly Credential[];
  readonly sessions: Sessions;
  readonly loginCodes: LoginCodes;
  /** Host names the server is reached by besides loopback names and IP literals (from --public-url). */
  readonly publicHosts?: readonly string[];
  /** Mark the login cookie Secure (the public URL is https). */
  readonly secureCookie?: boolean;
  /** `--insecure-no-auth`: anyone who reaches the port may do anything (tests only). */
  readonly insecureNoAuth?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: the credential's name (the audit actor). */
    identity: string;
  }
  interface FastifyContextConfig {
    /** Answers without a credential (health, the console's files, the login link); a function decides per request. */
    public?: boolean | ((req: FastifyRequest) => boolean);
    /** Content types a change may be sent with besides application/json (uploads). */
    uploadTypes?: readonly string[];
  }
}

export const UNAUTHORIZED_MESSAGE =
  'missing or wrong credential; set REWIND_TOKEN to the server\'s token (on the server\'s machine the CLI reads its admin.token by itself), or open the console with the link "rewind console" prints';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const deny = (reply: FastifyReply, status: number, code: string, message: string) => reply.status(status).send({ error: { code, message } });

/** The Host names the server answers to: IP literals and localhost (never rebound), and the configured ones. */
function hostAllowed(host: string | undefined, publicHosts: ReadonlySet<string>): boolean {
  const name = hostNameOf(host);
  return isIpOrLocalhost(name) || (name !== null && publicHosts.has(name));
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The credential a request carries: `Authorization: Bearer`, else the console's cookie. */
export function credentialOf(req: FastifyRequest, o: AuthOptions): Credential | null {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const token = bearerToken(auth);
    return token ? findCredential(o.credentials, token) : null;
  }
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie ? o.sessions.verify(cookie) : null;
}

/** A change from a browser must come from a page of this server: its Origin names the Host it was sent to. */
function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (the CLI, curl)
  try {
    return new URL(origin).host === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false; // "null" and other opaque origins
  }
}

const mediaType = (header: string | undefined) => (header ?? '').split(';')[0].trim().toLowerCase();

/** Installs the checks; call before any route is added. */
export function registerAuth(app: FastifyInstance, o: AuthOptions): void {
  const publicHosts = new Set((o.publicHosts ?? []).map((h) => h.toLowerCase()));
  app.decorateRequest('identity', '');
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host, publicHosts)) {
      return deny(
        reply,
        421,
        'MISDIRECTED_REQUEST',
        `this server does not answer to the host "${req.headers.host ?? ''}"; reach it by 127.0.0.1 or localhost, or add the name with --public-url (REWIND_PUBLIC_URL)`,
      );
    }
    const open = req.routeOptions.config.public;
    if (!(typeof open === 'function' ? open(req) : open)) {
      const credential = o.insecureNoAuth ? null : credentialOf(req, o);
      if (!credential && !o.insecureNoAuth) {
        return deny(reply, 401, 'UNAUTHORIZED', UNAUTHORIZED_MESSAGE);
      }
      req.identity = credential?.name ?? 'anonymous';
    }
    if (!CHANGES.has(req.method)) return;
    if (!sameOrigin(req)) {
      return deny(
        reply,
        403,
        'CROSS_ORIGIN',
        `a change must come from this server's own pages; the request's origin is "${req.headers.origin ?? req.headers['sec-fetch-site']}"`,
      );
    }
    if (req.method === 'DELETE') return;
    const type = mediaType(req.headers['content-type']);
    if (type !== 'application/json' && !(req.routeOptions.config.uploadTypes ?? []).includes(type)) {
      return deny(
        reply,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `send changes as application/json${req.routeOptions.config.uploadTypes ? ` (or ${req.routeOptions.config.uploadTypes[0]})` : ''}, not "${type || 'no content type'}"`,
      );
    }
  });
}

/** The login cookie's Set-Cookie value; an empty value with Max-Age=0 logs out. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
