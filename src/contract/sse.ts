/**
 * The one Server-Sent Events parser (WHATWG `text/event-stream` rules) of the CLI, the console and
 * the bench, fed arbitrary chunks: lines and multi-byte characters may be split anywhere between
 * two chunks. Part of the contract: it reads the framing of the API's event streams.
 */

export interface SseEvent {
  /** `message` when the server sent no `event:` field. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  readonly id?: string;
}

export class SseParser {
  private rest = '';
  private skipLeadingLF = false;
  private started = false;
  private type = '';
  private data: string[] = [];
  private lastId: string | undefined;

  /** Feeds decoded text; returns the events it completed. */
  feed(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR that ended the previous chunk may be the first half of a CRLF.
    if (this.skipLeadingLF && text.length > 0) {
      this.skipLeadingLF = false;
      if (text[0] === '\n') text = text.slice(1);
    }
    const buf = this.rest + text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(buf.slice(start, i), events);
      if (c === '\r') {
        if (i + 1 < buf.length) {
          if (buf[i + 1] === '\n') i++;
        } else {
          this.skipLeadingLF = true;
        }
      }
      start = i + 1;
    }
    this.rest = buf.slice(start);
    return events;
  }

  /** End of stream: an event without its terminating blank line is dropped, as the spec says. */
  end(): SseEvent[] {
    this.rest = '';
    this.type = '';
    this.data = [];
    return [];
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        const event: SseEvent = { event: this.type || 'message', data: this.data.join('\n') };
        out.push(this.lastId === undefined ? event : { ...event, id: this.lastId });
      }
      this.type = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // a comment, e.g. a keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // `retry` and unknown fields are ignored: clients reconnect on their own terms.
  }
}

/** Parses a byte stream (e.g. an undici response body) into events. */
export async function* readSse(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.feed(text);
  }
  yield* parser.feed(decoder.decode());
  yield* parser.end();
}
