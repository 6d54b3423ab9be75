import { describe, expect, it } from 'vitest';
import { SseParser, readSse } from '../../src/contract/sse.js';
import type { SseEvent } from '../../src/contract/sse.js';

const STREAM =
  ': keep-alive\n' +
  'event: step\ndata: {"seq":1,"at":"2019-01-01T00:00:49Z","message":"web: starting"}\n\n' +
  'event: step\r\ndata: {"seq":2,"at":"2019-01-01T00:00:51Z","message":"héllo ✓"}\r\n\r\n' +
  'data: line one\ndata: line two\nid: 7\n\n' +
  'event: end\rdata: {"id":"DABCDEFGHI","state":"succeeded"}\r\r';

const EXPECTED: SseEvent[] = [
  { event: 'step', data: '{"seq":1,"at":"2019-01-01T00:00:49Z","message":"web: starting"}' },
  { event: 'step', data: '{"seq":2,"at":"2019-01-01T00:00:51Z","message":"héllo ✓"}' },
  { event: 'message', data: 'line one\nline two', id: '7' },
  { event: 'end', data: '{"id":"DABCDEFGHI","state":"succeeded"}', id: '7' },
];

async function collect(chunks: (string | Uint8Array)[]): Promise<SseEvent[]> {
  async function* source() {
    yield* chunks;
  }
  const out: SseEvent[] = [];
  for await (const ev of readSse(source())) out.push(ev);
  return out;
}

describe('SSE parser', () => {
  it('parses a whole stream (LF, CRLF and CR line ends, comments, multi-line data, ids)', async () => {
    expect(await collect([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events for every split of the text into two chunks', async () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(await collect([STREAM.slice(0, i), STREAM.slice(i)]), `split at ${i}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events when the bytes arrive one at a time (multi-byte characters split)', async () => {
    const bytes = new TextEncoder().encode(STREAM);
    expect(await collect([...bytes].map((b) => Uint8Array.of(b)))).toEqual(EXPECTED);
  });

  it('treats CR then LF in the next chunk as one line end, not an empty line', () => {
    const p = new SseParser();
    expect(p.feed('data: a\r')).toEqual([]);
    expect(p.feed('\ndata: b\r')).toEqual([]);
    expect(p.feed('')).toEqual([]);
    expect(p.feed('\n\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('strips one space after the colon only, and a leading BOM', () => {
    const p = new SseParser();
    expect(p.feed('\ufeffdata:x\ndata:  y\nevent:\n\n')).toEqual([{ event: 'message', data: 'x\n y' }]);
  });

  it('drops an event that the stream ended before its blank line', async () => {
    expect(await collect(['event: step\ndata: {}\n\nevent: end\ndata: {}'])).toEqual([{ event: 'step', data: '{}' }]);
  });

  it('ignores blocks without data', () => {
    expect(new SseParser().feed('event: step\n\nretry: 10\n\n')).toEqual([]);
  });
});
