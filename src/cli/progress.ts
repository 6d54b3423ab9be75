import { bytes } from './format.js';

/**
 * `Uploading source... [##########··········]  50%  1.2 MB / 2.4 MB`: one frame of a byte
 * progress bar. Pure; `ProgressBar` draws the frames on a terminal.
 */
export function renderProgress(label: string, done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(ratio * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label}... [${bar}] ${percent}  ${bytes(done)} / ${bytes(total)}`;
}

/** `\r` + frame + erase-to-end-of-line: redraws the current terminal line. */
export const redraw = (frame: string): string => `\r${frame}\x1b[K`;
/** Erases the current terminal line. */
export const clearLine = '\r\x1b[K';

/** Draws a progress bar on a terminal stream, at most once per visible change. */
export class ProgressBar {
  private last = '';
  constructor(
    private readonly write: (text: string) => void,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    const frame = renderProgress(this.label, done, this.total);
    if (frame === this.last) return;
    this.last = frame;
    this.write(redraw(frame));
  }

  /** Removes the bar, leaving the cursor at the start of an empty line. */
  clear(): void {
    if (this.last !== '') this.write(clearLine);
    this.last = '';
  }
}
