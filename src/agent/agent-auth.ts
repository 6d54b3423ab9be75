/**
 * Who may call the agent: the control plane, which holds the agent's token. Every request (an
 * unknown route too: its 404 comes only after this) is checked before its body is read; browsers
 * have no reason to call the agent, so anything that looks like one is refused as well.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerToken, hostNameOf, isIpOrLocalhost, sameDigest, tokenDigest } from '../protocol/http-guard.js';

export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** True when `host` (a Host header) names an IP address or localhost: a DNS-rebound name is neither. */
export const isLocalHostHeader = (host: string | undefined): boolean => isIpOrLocalhost(hostNameOf(host));

/** A check of `Authorization: Bearer TOKEN` that takes the same time whatever was sent (sha256, then timingSafeEqual). */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = tokenDigest(token);
  return (authorization) => {
    const given = bearerToken(authorization);
    return sameDigest(tokenDigest(given ?? ''), expected) && given !== null;
  };
}

/** Why the agent refuses `req`, or null when it may go on. */
export function refusal(req: Pick<FastifyRequest, 'method' | 'headers'>, authorized: (authorization: string | undefined) => boolean): Refusal | null {
  const h = req.headers;
  if (!isLocalHostHeader(h.host)) {
    return {
      status: 421,
      code: 'MISDIRECTED_REQUEST',
      message: 'the agent answers only requests addressed to an IP address or localhost (check the Host header)',
    };
  }
  if (h.origin !== undefined || h['sec-fetch-site'] !== undefined) {
    return { status: 403, code: 'FORBIDDEN_ORIGIN', message: 'the agent does not answer browsers (the request has an Origin or Sec-Fetch-Site header)' };
  }
  if (!authorized(h.authorization)) {
    return {
      status: 401,
      code: 'UNAUTHORIZED',
      message: "the agent needs its token: send Authorization: Bearer <the contents of the agent's agent.token file, or REWIND_AGENT_TOKEN>",
    };
  }
  const type = (h['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if ((req.method === 'POST' || req.method === 'PUT') && type !== 'application/json') {
    return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: `the agent takes ${req.method} bodies as application/json only` };
  }
  return null;
}

/** Refuses every request `refusal` objects to, before routing, body parsing or a 404; each refusal is logged (never a header). */
export function installGuard(app: FastifyInstance, token: string, logger: { warn(obj: object, msg?: string): void }): void {
  const authorized = bearerCheck(token);
  app.addHook('onRequest', async (req, reply) => {
    const why = refusal(req, authorized);
    if (!why) return;
    logger.warn(
      { method: req.method, url: req.url.slice(0, 200), from: req.socket.remoteAddress, status: why.status, code: why.code },
      'the agent refused a request',
    );
    if (why.status === 401) reply.header('www-authenticate', 'Bearer realm="rewind-agent"');
    // The connection is not reused: a refused caller's body is never read.
    return reply
      .code(why.status)
      .header('connection', 'close')
      .type('application/json')
      .send({ error: { code: why.code, message: why.message } });
  });
}
