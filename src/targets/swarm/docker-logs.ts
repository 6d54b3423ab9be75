/**
 * Docker's log stream of a container or service without a TTY: frames of an 8-byte header
 * (stream 1 stdout or 2 stderr, three zero bytes, a big-endian uint32 length) and the payload.
 * A service with a TTY sends plain text instead.
 */

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

const STREAMS: Record<number, LogLine['stream'] | undefined> = { 1: 'stdout', 2: 'stderr' };

function isFramed(buf: Buffer): boolean {
  return buf.length >= 8 && STREAMS[buf[0]] !== undefined && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
}

function linesOf(text: string, stream: LogLine['stream']): LogLine[] {
  return text
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((line) => ({ stream, line: line.replace(/\r$/, '') }));
}

/** The lines of a complete (not followed) log answer. A truncated last frame is kept as far as it goes. */
export function demuxLogs(buf: Buffer): LogLine[] {
  if (!isFramed(buf)) return linesOf(buf.toString('utf8'), 'stdout');
  const order: LogLine[] = [];
  let pending: { stream: LogLine['stream']; text: string } | null = null;
  for (let at = 0; at + 8 <= buf.length; ) {
    const stream = STREAMS[buf[at]] ?? 'stdout';
    const size = buf.readUInt32BE(at + 4);
    const text = buf.subarray(at + 8, Math.min(buf.length, at + 8 + size)).toString('utf8');
    at += 8 + size;
    // A line may span frames of the same stream: join until its newline.
    const joined: string = pending && pending.stream === stream ? pending.text + text : text;
    if (pending && pending.stream !== stream) order.push(...linesOf(pending.text, pending.stream));
    const cut = joined.lastIndexOf('\n');
    if (cut >= 0) order.push(...linesOf(joined.slice(0, cut + 1), stream));
    pending = cut === joined.length - 1 ? null : { stream, text: joined.slice(cut + 1) };
  }
  if (pending) order.push(...linesOf(pending.text, pending.stream));
  return order;
}
