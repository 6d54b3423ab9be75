/**
 * Newline-delimited JSON, as the agent's rollout and exec streams (and the API's exec stream) are
 * written. Splits a byte/text stream into NDJSON values; keeps the incomplete last line for the next chunk. */
export class NdjsonParser {
  #rest = '';

  push(chunk: string): unknown[] {
    const text = this.#rest + chunk;
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  }

  /** Whatever complete value is left when the stream ends (a last line without newline). */
  end(): unknown[] {
    const rest = this.#rest;
    this.#rest = '';
    if (rest.trim() === '') return [];
    try {
      return [JSON.parse(rest) as unknown];
    } catch {
      return []; // cut mid-line by a broken connection
    }
  }
}

/** The values of an NDJSON text stream, as they arrive. A line cut by a broken connection is dropped. */
export async function* readNdjson<T>(body: AsyncIterable<string | Uint8Array>): AsyncGenerator<T> {
  const parser = new NdjsonParser();
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    for (const value of parser.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))) yield value as T;
  }
  for (const value of parser.end()) yield value as T;
}
