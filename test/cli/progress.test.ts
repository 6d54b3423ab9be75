import { describe, expect, it } from 'vitest';
import { ProgressBar, clearLine, renderProgress } from '../../src/cli/progress.js';

describe('progress bar', () => {
  it('renders bytes sent over the total', () => {
    expect(renderProgress('Uploading source', 0, 2048, 10)).toBe('Uploading source... [----------]   0%  0 B / 2.0 KB');
    expect(renderProgress('Uploading source', 1024, 2048, 10)).toBe('Uploading source... [#####-----]  50%  1.0 KB / 2.0 KB');
    expect(renderProgress('Uploading source', 2048, 2048, 10)).toBe('Uploading source... [##########] 100%  2.0 KB / 2.0 KB');
  });

  it('is full for an empty upload and never overflows', () => {
    expect(renderProgress('Up', 0, 0, 4)).toBe('Up... [####] 100%  0 B / 0 B');
    expect(renderProgress('Up', 10, 5, 4)).toBe('Up... [####] 100%  10 B / 5 B');
  });

  it('redraws the line only when the frame changes, and clears it', () => {
    const writes: string[] = [];
    const bar = new ProgressBar((s) => writes.push(s), 'Uploading source', 100);
    bar.update(0);
    bar.update(0);
    bar.update(100);
    bar.clear();
    expect(writes).toEqual([`\r${renderProgress('Uploading source', 0, 100)}\x1b[K`, `\r${renderProgress('Uploading source', 100, 100)}\x1b[K`, clearLine]);
  });
});
