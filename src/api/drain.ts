import type { Readable } from 'node:stream';

/** Reads what is left of a refused upload (bounded), so the client gets our error reply instead of a reset connection. */
export async function drain(body: Readable, maxMs = 15_000): Promise<void> {
  if (body.readableEnded || body.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxMs);
    body.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    body.on('error', () => {
      clearTimeout(timer);
      resolve();
    });
    body.resume();
  });
}
