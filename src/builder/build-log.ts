import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** How much of a log is kept at each end by default: the first and the last MiB. */
export const DEFAULT_LOG_KEEP_BYTES = 1 << 20;

/** `REWIND_LOG_KEEP_MB` (default 1): how much of a build or task log is kept at each end. */
export function logKeepBytes(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const mb = Number(env.REWIND_LOG_KEEP_MB ?? '');
  return Number.isFinite(mb) && mb > 0 ? Math.max(1024, Math.floor(mb * 1024 * 1024)) : DEFAULT_LOG_KEEP_BYTES;
}

/** The line that stands where output was cut. */
export const cutMarker = (bytes: number, keep: number) =>
  `\n… ${bytes} bytes cut (the first and last ${+(keep / 1024 / 1024).toFixed(3)} MiB are kept; REWIND_LOG_KEEP_MB sets it) …\n`;

/** Where a build's log lives: `<data>/build-logs/<id>.log` (0600, in a 0700 folder). */
export const buildLogPath = (dataDir: string, id: string) => join(dataDir, 'build-logs', `${id}.log`);

/**
 * A log with bounded memory and disk: the first `keep` bytes go to the file as they come (and to
 * `onKept`, for live followers); after that only the last `keep` bytes are held, and `close()`
 * appends a line saying how many bytes were cut, then that tail.
 */
export class CappedLog {
  private readonly head: Buffer[] = [];
  private headLeft: number;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private cut = 0;
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    private readonly keep: number,
    private readonly onKept: (text: string) => void,
  ) {
    this.headLeft = keep;
  }

  static async open(path: string, keep: number, onKept: (text: string) => void = () => {}): Promise<CappedLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const file = await open(path, 'a', 0o600);
    await file.chmod(0o600);
    return new CappedLog(file, keep, onKept);
  }

  write(chunk: Buffer | string): void {
    if (this.closed) return;
    let b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.headLeft > 0) {
      const head = b.subarray(0, this.headLeft);
      this.headLeft -= head.length;
      this.head.push(Buffer.from(head));
      this.append(head);
      this.onKept(head.toString('utf8'));
      b = b.subarray(head.length);
    }
    if (b.length === 0) return;
    this.tail.push(Buffer.from(b));
    this.tailBytes += b.length;
    while (this.tailBytes > this.keep) {
      const over = this.tailBytes - this.keep;
      const first = this.tail[0];
      if (first.length <= over) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.cut += first.length;
      } else {
        this.tail[0] = first.subarray(over);
        this.tailBytes -= over;
        this.cut += over;
      }
    }
  }

  /** The log as it will read: the head, the cut so far, the tail so far. */
  text(): string {
    return Buffer.concat(this.head).toString('utf8') + this.ending();
  }

  /** What onKept was given so far: the head (a follower then gets the cut line and the tail at close). */
  published(): string {
    return Buffer.concat(this.head).toString('utf8') + (this.closed ? this.ending() : '');
  }

  /** Appends the cut line and the tail, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ending = this.ending();
    if (ending) {
      this.append(Buffer.from(ending, 'utf8'));
      this.onKept(ending);
    }
    await this.writes;
    await this.file.close();
  }

  private ending(): string {
    return (this.cut > 0 ? cutMarker(this.cut, this.keep) : '') + Buffer.concat(this.tail).toString('utf8');
  }

  private append(b: Buffer) {
    const copy = Buffer.from(b);
    this.writes = this.writes.then(() => this.file.write(copy)).catch(() => {});
  }
}

/** A finished build's log file, or undefined when it has none (builds made before logs were files). */
export async function readBuildLog(dataDir: string, id: string): Promise<string | undefined> {
  return readFile(buildLogPath(dataDir, id), 'utf8').catch(() => undefined);
}
