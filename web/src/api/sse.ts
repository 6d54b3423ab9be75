import { SseParser, type SseEvent } from '../../../src/contract/sse';
import { send } from './client';

/**
 * Reads a server-sent event stream with fetch (not EventSource, so the bearer token goes along).
 * Resolves when the server ends the stream; rejects on errors; stops on `signal`.
 */
export async function readSse(path: string, onEvent: (event: string, data: string) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
  const res = await send('GET', path, undefined, signal);
  onOpen?.();
  const parser = new SseParser();
  const deliver = (events: readonly SseEvent[]) => {
    for (const e of events) onEvent(e.event, e.data);
  };
  await readText(res, signal, (chunk) => deliver(parser.feed(chunk)));
  deliver(parser.end());
}

/** Streams a text body (build or app logs) chunk by chunk. */
export async function streamText(path: string, onChunk: (text: string) => void, signal: AbortSignal): Promise<void> {
  const res = await send('GET', path, undefined, signal);
  await readText(res, signal, onChunk);
}

async function readText(res: Response, signal: AbortSignal, onChunk: (text: string) => void): Promise<void> {
  if (!res.body) return onChunk(await res.text());
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', stop);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) return;
      onChunk(value);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
