import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthOptions } from '../auth.js';
import { credentialOf, sessionCookie } from '../auth.js';
import { findCredential } from '../credentials.js';
import { IdentityView, LoginLinkView, NoContent } from '../../contract/index.js';
import { errorReplies } from '../route-helpers.js';

const LOGIN_FAILED = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rewind: log in</title></head>
<body style="font:15px system-ui;margin:2rem"><h1>This login link does not work</h1>
<p>A login link opens the console once. Run <code>npx rewind console</code> on the server's machine for a new one,
or open the console and paste an API token.</p></body></html>`;

/**
 * Logging in to the console: a one-time link (`/login?token=CODE`, printed by the server at start
 * and by `rewind console`) or a pasted API token becomes an HttpOnly, SameSite=Strict cookie.
 */
export function authRoutes(fastify: FastifyInstance, o: AuthOptions, baseUrl: (req: FastifyRequest) => string): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const cookie = (value: string, maxAge: number) => sessionCookie(value, maxAge, o.secureCookie ?? false);

  app.get(
    '/login',
    { config: { public: true }, schema: { hide: true, querystring: Type.Object({ token: Type.String({ maxLength: 200 }) }) } },
    async (req, reply) => {
      const credential = o.loginCodes.consume(req.query.token);
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      if (!credential) return reply.status(401).type('text/html; charset=utf-8').send(LOGIN_FAILED);
      // The code leaves the address bar at once: the browser goes on to the console without it.
      return reply.header('set-cookie', cookie(o.sessions.issue(credential), o.sessions.maxAgeSeconds)).redirect('/', 303);
    },
  );

  app.post(
    '/api/auth/session',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log the console in with an API token: sets the HttpOnly login cookie',
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: IdentityView, ...errorReplies(400) },
      },
    },
    async (req, reply) => {
      const credential = findCredential(o.credentials, req.body.token);
      if (!credential)
        return reply
          .status(401)
          .send({ error: { code: 'UNAUTHORIZED', message: "that token is not one of this server's; use its admin.token or REWIND_TOKEN" } });
      return reply.header('set-cookie', cookie(o.sessions.issue(credential), o.sessions.maxAgeSeconds)).send({ name: credential.name, via: 'cookie' as const });
    },
  );

  app.delete(
    '/api/auth/session',
    { schema: { tags: ['auth'], summary: 'Log the console out: clears the login cookie', response: { 204: NoContent, ...errorReplies() } } },
    async (_req, reply) => reply.header('set-cookie', cookie('', 0)).status(204).send(),
  );

  app.get(
    '/api/auth/whoami',
    { schema: { tags: ['auth'], summary: 'Who this request is made as', response: { 200: IdentityView, ...errorReplies() } } },
    (req: FastifyRequest) => ({
      name: req.identity,
      via: o.insecureNoAuth ? ('none' as const) : req.headers.authorization !== undefined ? ('token' as const) : ('cookie' as const),
    }),
  );

  app.post(
    '/api/auth/login-links',
    {
      schema: {
        tags: ['auth'],
        summary: 'A one-time link that logs a browser in to the console (rewind console)',
        response: { 201: LoginLinkView, ...errorReplies(409) },
      },
    },
    async (req, reply) => {
      const credential = credentialOf(req, o);
      if (!credential)
        return reply.status(409).send({ error: { code: 'NO_CREDENTIALS', message: 'this server runs with --insecure-no-auth: the console needs no login' } });
      const code = o.loginCodes.issue(credential);
      return reply.status(201).send({ url: `${baseUrl(req)}/login?token=${code}`, expiresAt: new Date(Date.now() + o.loginCodes.ttlMs).toISOString() });
    },
  );
}
