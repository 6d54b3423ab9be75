import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventHub } from '../engine/event-hub.js';

export interface ReplayStream<T extends { readonly seq: number }> {
  /** SSE event name of each item (`step`, `log`). */
  readonly event: string;
  readonly hub: EventHub<T>;
  readonly key: string;
  /** Every item stored so far, in order. */
  readonly history: () => Promise<readonly T[]>;
  /** Whether more items may still come; when not, the stream ends after the history. */
  readonly moving: () => Promise<boolean>;
  /** The body of the final `end` event. */
  readonly final: () => Promise<unknown>;
}

/**
 * Server-sent events of a durable, append-only sequence: the stored history first, then live
 * items as they are published, each once (by seq), then `end` with the final value.
 */
export async function replayStream<T extends { readonly seq: number }>(req: FastifyRequest, reply: FastifyReply, s: ReplayStream<T>): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let last = 0;
  let ended = false;
  const send = (item: T) => {
    if (item.seq <= last || ended) return;
    last = item.seq;
    res.write(`id: ${item.seq}\nevent: ${s.event}\ndata: ${JSON.stringify(item)}\n\n`);
  };
  const end = async () => {
    if (ended) return;
    for (const item of await s.history()) send(item);
    ended = true;
    res.end(`event: end\ndata: ${JSON.stringify(await s.final())}\n\n`);
  };
  // Subscribe before reading the history, buffering what arrives meanwhile, so nothing falls in between.
  const buffered: T[] = [];
  let replaying = true;
  let finished = false;
  const off = s.hub.subscribe(
    s.key,
    (item) => (replaying ? buffered.push(item) : send(item)),
    () => {
      finished = true;
      if (!replaying) void end();
    },
  );
  req.raw.on('close', off);
  for (const item of await s.history()) send(item);
  replaying = false;
  buffered.forEach(send);
  if (finished || !(await s.moving())) {
    off();
    await end();
  }
}
