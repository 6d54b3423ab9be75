import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import type { ChangeEvent } from '../../contract/index.js';
import { answeredHead, errorReplies, streamReply } from '../route-helpers.js';

/** `GET /api/events`: a server-sent `change` event for every recorded change, so consoles stay live without polling. */
export function eventsRoutes(app: FastifyInstance, engine: Engine): void {
  const schema = {
    tags: ['events'],
    summary: 'Server-sent events: `change` {action, app, env, subject, at} for every change',
    response: { 200: streamReply('text/event-stream', '`change` events (ChangeEvent), and a `: ping` comment every 15 s'), ...errorReplies() },
  };
  app.get('/api/events', { schema }, (req, reply) => {
    if (answeredHead(req, reply, 'text/event-stream')) return reply;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    const off = engine.history.onAudit((e) => {
      const change: ChangeEvent = { action: e.action, app: e.app ?? null, env: e.env ?? null, subject: e.subject ?? null, actor: e.actor, at: e.at };
      res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    });
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.raw.on('close', () => {
      off();
      clearInterval(ping);
    });
  });
}
