import { send } from './client';

/**
 * Reads a server-sent event stream with fetch (not EventSource, so the bearer token goes along).
 * Resolves when the server ends the stream; rejects on errors; stops on `signal`.
 */
export async function readSse(path: string, onEvent: (event: string, data: string) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
  const res = await send('GET', path, undefined, signal);
  onOpen?.();
  let buffer = '';
  await readText(res, signal, (chunk) => {
    buffer += chunk.replace(/\r\n/g, '\n');
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length) onEvent(event, data.join('\n'));
    }
  });
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
