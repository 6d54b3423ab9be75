import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import { hashFile } from '../../src/artifacts/artifact-store.js';
import { safeExtract } from '../../src/artifacts/safe-extract.js';
import { listTree, packDirectory } from '../../src/artifacts/slug-pack.js';
import { listSourceFiles, packSource } from '../../src/artifacts/source-pack.js';

// ---- raw ustar writer, so that tests can build archives no honest tool would --------------

type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';
interface RawEntry {
  name: string;
  type?: TarType;
  data?: string | Buffer;
  linkname?: string;
  /** Size written in the header, when it should differ from the data's. */
  size?: number;
  /** Mode bits in the header (default 0644, folders 0755). */
  mode?: number;
}
const TYPEFLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', dir: '5', fifo: '6' };

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(TYPEFLAG[e.type ?? 'file'], 156);
  h.write(e.linkname ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)} `, 148);
  return h;
}

function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    blocks.push(header(e, e.size ?? data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

// ---- fixtures ------------------------------------------------------------------------------

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rewind-archive-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const LIMITS = { maxBytes: 10 * 2 ** 20, maxEntries: 1000 };

function writeTarGz(entries: RawEntry[], name = 'up.tar.gz'): string {
  const p = join(tmp, name);
  writeFileSync(p, gzipSync(rawTar(entries)));
  return p;
}

async function refusal(promise: Promise<unknown>): Promise<RewindError> {
  const e = await promise.then(
    () => {
      throw new Error('expected the archive to be refused');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RewindError);
  return e as RewindError;
}

/** Everything under tmp except the archive itself: must stay empty for a refused upload. */
const leftovers = () =>
  readdirSync(tmp)
    .filter((f) => !f.endsWith('.tar.gz'))
    .sort();

function tree(files: Record<string, string>, root = join(tmp, 'src')): string {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

// ---- source packing ------------------------------------------------------------------------

describe('listSourceFiles', () => {
  it('honours root and nested .gitignore, .rewindignore, and always skips .git', () => {
    const dir = tree({
      '.gitignore': 'node_modules/\n*.log\n!keep.log\n/build\n',
      '.rewindignore': 'videos/\nbuild-info.txt\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.git/config': '',
      'app.js': '',
      'debug.log': '',
      'keep.log': '',
      'build/out.js': '',
      'lib/build/kept.js': '',
      'node_modules/x/index.js': '',
      'lib/node_modules/y.js': '',
      'lib/.gitignore': 'secret.txt\n',
      'lib/secret.txt': '',
      'lib/util.js': '',
      'secret.txt': '',
      'videos/big.mp4': '',
      'build-info.txt': '',
      '@scoped.txt': '',
      'vendor/.git': 'gitdir: ../.git/modules/vendor\n',
      'vendor/lib.js': '',
    });
    symlinkSync('app.js', join(dir, 'link.js'));
    symlinkSync('lib', join(dir, 'lib-link'));
    return expect(listSourceFiles(dir)).resolves.toEqual([
      '.gitignore',
      '.rewindignore',
      '@scoped.txt',
      'app.js',
      'keep.log',
      'lib-link',
      'lib/.gitignore',
      'lib/build/kept.js',
      'lib/util.js',
      'link.js',
      'secret.txt',
      'vendor/lib.js',
    ]);
  });

  it('lets .rewindignore re-include what git ignores', async () => {
    const dir = tree({ '.gitignore': 'dist/\n', '.rewindignore': '!dist/\n', 'dist/app.js': '', 'a.js': '' });
    expect(await listSourceFiles(dir)).toEqual(['.gitignore', '.rewindignore', 'a.js', 'dist/app.js']);
  });

  it('lets a nested .gitignore re-include what the root one ignores', async () => {
    const dir = tree({ '.gitignore': '*.txt\n', 'docs/.gitignore': '!readme.txt\n', 'docs/readme.txt': '', 'docs/other.txt': '', 'a.txt': '' });
    expect(await listSourceFiles(dir)).toEqual(['.gitignore', 'docs/.gitignore', 'docs/readme.txt']);
  });
});

describe('packSource and safeExtract', () => {
  it('refuses to pack a source with no files', async () => {
    const dir = tree({ '.gitignore': '*\n' });
    const e = await refusal(packSource(dir, join(tmp, 'x.tar.gz')));
    expect(e.code).toBe('EMPTY_SOURCE');
    expect(e.message).toBe(`there is nothing to upload in ${dir}: it is empty, or .gitignore/.rewindignore exclude every file`);
  });

  it('round-trips the listed files, keeping symlinks', async () => {
    const dir = tree({ '.gitignore': '*.log\n', 'app.js': 'console.log(1)', 'lib/a.js': 'a', 'x.log': 'no', '@at.txt': 'at' });
    symlinkSync('app.js', join(dir, 'link.js'));
    const progress: number[] = [];
    const out = join(tmp, 'src.tar.gz');
    const result = await packSource(dir, out, (b) => progress.push(b));
    expect(result.files).toBe(5);
    expect(result.bytes).toBe(readFileSync(out).length);
    expect(progress.at(-1)).toBe(result.bytes);

    const dest = join(tmp, 'out');
    const extracted = await safeExtract(out, dest, LIMITS);
    expect(extracted.entries).toBe(5);
    expect(readFileSync(join(dest, 'app.js'), 'utf8')).toBe('console.log(1)');
    expect(readFileSync(join(dest, 'lib/a.js'), 'utf8')).toBe('a');
    expect(readFileSync(join(dest, '@at.txt'), 'utf8')).toBe('at');
    expect(existsSync(join(dest, 'x.log'))).toBe(false);
    expect(lstatSync(join(dest, 'link.js')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dest, 'link.js'))).toBe('app.js');
  });

  it('packs into a writable stream', async () => {
    const dir = tree({ 'a.txt': 'hello' });
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const result = await packSource(dir, sink);
    const buf = Buffer.concat(chunks);
    expect(result).toEqual({ bytes: buf.length, files: 1 });
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('extracts folders, in-tree symlinks and hard links', async () => {
    const file = writeTarGz([
      { name: 'app/', type: 'dir' },
      { name: 'app/a.js', data: 'A' },
      { name: 'app/lib/', type: 'dir' },
      { name: 'app/lib/up.js', type: 'symlink', linkname: '../a.js' },
      { name: 'app/self', type: 'symlink', linkname: '.' },
      { name: 'app/hard.js', type: 'hardlink', linkname: 'app/a.js' },
    ]);
    const dest = join(tmp, 'out');
    await safeExtract(file, dest, LIMITS);
    expect(readFileSync(join(dest, 'app/lib/up.js'), 'utf8')).toBe('A');
    expect(readFileSync(join(dest, 'app/hard.js'), 'utf8')).toBe('A');
    expect(lstatSync(join(dest, 'app/hard.js')).nlink).toBe(2);
  });
});

// ---- refusals ------------------------------------------------------------------------------

describe('safeExtract refuses unsafe archives as a whole', () => {
  const cases: [string, RawEntry[], string][] = [
    [
      'a ../ path',
      [
        { name: 'ok.txt', data: 'fine' },
        { name: '../evil', data: 'x' },
      ],
      'the upload has an unsafe entry "../evil": paths must stay inside the source folder; remove it and try again',
    ],
    [
      'a nested .. path',
      [{ name: 'a/../../evil', data: 'x' }],
      'the upload has an unsafe entry "a/../../evil": paths must stay inside the source folder; remove it and try again',
    ],
    [
      'an absolute path',
      [{ name: '/tmp/rewind-abs-evil', data: 'x' }],
      'the upload has an unsafe entry "/tmp/rewind-abs-evil": paths must stay inside the source folder; remove it and try again',
    ],
    [
      'a symlink to /etc, then a file through it',
      [
        { name: 'etc', type: 'symlink', linkname: '/etc' },
        { name: 'etc/rewind-evil', data: 'x' },
      ],
      'the upload has an unsafe entry "etc": it is a symbolic link to "/etc", outside the source folder; remove it and try again',
    ],
    [
      'a symlink out of the folder',
      [{ name: 'a/up', type: 'symlink', linkname: '../../outside' }],
      'the upload has an unsafe entry "a/up": it is a symbolic link to "../../outside", outside the source folder; remove it and try again',
    ],
    [
      'a file through an in-tree symlink',
      [
        { name: 'sub/', type: 'dir' },
        { name: 'l', type: 'symlink', linkname: 'sub' },
        { name: 'l/x', data: 'x' },
      ],
      'the upload has an unsafe entry "l/x": it is inside the symbolic link "l"; nothing may be written through a link; remove it and try again',
    ],
    [
      'a file under a folder that a later entry turns into a symlink',
      [
        { name: 'd/f', data: 'x' },
        { name: 'd', type: 'symlink', linkname: '.' },
      ],
      'the upload has an unsafe entry "d/f": it is inside the symbolic link "d"; nothing may be written through a link; remove it and try again',
    ],
    [
      'a symlink chain that escapes (s -> ., t -> s/..)',
      [
        { name: 's', type: 'symlink', linkname: '.' },
        { name: 't', type: 'symlink', linkname: 's/..' },
      ],
      'the upload has an unsafe entry "t": it is a symbolic link to "s/..", which goes through another link; remove it and try again',
    ],
    [
      'a hard link outside',
      [{ name: 'h', type: 'hardlink', linkname: '../outside' }],
      'the upload has an unsafe entry "h": it is a hard link to "../outside", outside the source folder; remove it and try again',
    ],
    [
      'a hard link to an absolute path',
      [{ name: 'passwd', type: 'hardlink', linkname: '/etc/passwd' }],
      'the upload has an unsafe entry "passwd": it is a hard link to "/etc/passwd", outside the source folder; remove it and try again',
    ],
    [
      'a hard link to a symlink (which would resolve elsewhere)',
      [
        { name: 'a/b/s', type: 'symlink', linkname: '../x' },
        { name: 'h', type: 'hardlink', linkname: 'a/b/s' },
      ],
      'the upload has an unsafe entry "h": it is a hard link to "a/b/s", a symbolic link or a path through one; remove it and try again',
    ],
    [
      'a character device',
      [{ name: 'null', type: 'chardev' }],
      'the upload has an unsafe entry "null": it is a character device; only files, folders and links are allowed; remove it and try again',
    ],
    [
      'a block device',
      [{ name: 'sda', type: 'blockdev' }],
      'the upload has an unsafe entry "sda": it is a block device; only files, folders and links are allowed; remove it and try again',
    ],
    [
      'a fifo',
      [{ name: 'pipe', type: 'fifo' }],
      'the upload has an unsafe entry "pipe": it is a named pipe; only files, folders and links are allowed; remove it and try again',
    ],
  ];

  it.each(cases)('%s', async (_title, entries, message) => {
    const file = writeTarGz(entries);
    const dest = join(tmp, 'out');
    const e = await refusal(safeExtract(file, dest, LIMITS));
    expect(e.code).toBe('UNSAFE_ARCHIVE');
    expect(e.status).toBe(400);
    expect(e.message).toBe(message);
    expect(existsSync(dest)).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(existsSync('/tmp/rewind-abs-evil')).toBe(false);
    expect(existsSync('/etc/rewind-evil')).toBe(false);
  });

  it('refuses more bytes than allowed, from the headers, before writing', async () => {
    const file = writeTarGz([
      { name: 'a', data: 'x'.repeat(600) },
      { name: 'b', data: 'y'.repeat(600) },
    ]);
    const dest = join(tmp, 'out');
    const e = await refusal(safeExtract(file, dest, { maxBytes: 1000, maxEntries: 10 }));
    expect(e.code).toBe('UPLOAD_TOO_LARGE');
    expect(e.status).toBe(413);
    expect(e.message).toBe(
      'the upload unpacks to more than 0.00095 MB (the limit, set by REWIND_MAX_UNPACKED_MB); add large files to .rewindignore and try again',
    );
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses more entries than allowed', async () => {
    const file = writeTarGz([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const e = await refusal(safeExtract(file, join(tmp, 'out'), { maxBytes: 1000, maxEntries: 2 }));
    expect(e.code).toBe('UPLOAD_TOO_LARGE');
    expect(e.message).toBe(
      'the upload has more than 2 entries (the limit, set by REWIND_MAX_UNPACKED_ENTRIES); add generated or vendored folders to .rewindignore and try again',
    );
    expect(existsSync(join(tmp, 'out'))).toBe(false);
  });

  it('strips setuid, setgid, sticky and group/world-write bits from what it unpacks', async () => {
    const file = writeTarGz([
      { name: 'd', type: 'dir', mode: 0o3777 },
      { name: 'd/suid', data: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'sgid', data: 'x', mode: 0o2755 },
      { name: 'open', data: 'x', mode: 0o666 },
      { name: 'plain', data: 'x', mode: 0o644 },
    ]);
    const dest = join(tmp, 'out');
    await safeExtract(file, dest, LIMITS);
    const mode = (p: string) => lstatSync(join(dest, p)).mode & 0o7777;
    expect(mode('d/suid')).toBe(0o755);
    expect(mode('sgid')).toBe(0o755);
    expect(mode('open') & 0o022).toBe(0);
    expect(mode('plain')).toBe(0o644 & ~process.umask());
    expect(mode('d') & 0o7022).toBe(0);
  });

  it('refuses an archive that unpacks to more than maxRatio times its size (a gzip of zeros), before unpacking it all', async () => {
    const file = join(tmp, 'bomb.tar.gz');
    // 200 MB of zeros in one file: a header, then the zeros, gzip'd to a few hundred KB.
    writeFileSync(file, gzipSync(Buffer.concat([header({ name: 'zeros' }, 200 * 2 ** 20), Buffer.alloc(200 * 2 ** 20), Buffer.alloc(1024)]), { level: 1 }));
    const started = Date.now();
    const e = await refusal(safeExtract(file, join(tmp, 'out'), { maxBytes: 2 ** 30, maxEntries: 10, maxRatio: 100 }));
    expect(e.code).toBe('UPLOAD_TOO_LARGE');
    expect(e.message).toBe(
      'the upload unpacks to more than 100 times its size (the limit, set by REWIND_MAX_UNPACK_RATIO); it looks like a compression bomb: upload the source itself',
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(existsSync(join(tmp, 'out'))).toBe(false);
  });

  it('refuses an archive compressed twice (tar would unpack the inner layer past the counts)', async () => {
    const file = join(tmp, 'twice.tar.gz');
    writeFileSync(file, gzipSync(gzipSync(rawTar([{ name: 'a', data: 'x' }]))));
    const e = await refusal(safeExtract(file, join(tmp, 'out'), LIMITS));
    expect(e.code).toBe('INVALID_ARCHIVE');
    expect(e.message).toBe('the upload is compressed twice; upload a .tar.gz of the source (rewind build DIR does this)');
    expect(existsSync(join(tmp, 'out'))).toBe(false);
  });

  it('unpacks a large archive with bounded memory', async () => {
    const size = 300 * 2 ** 20;
    const file = join(tmp, 'big.tar.gz');
    writeFileSync(file, gzipSync(Buffer.concat([header({ name: 'big' }, size), Buffer.alloc(size, 'a'), Buffer.alloc(1024)]), { level: 1 }));
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    await safeExtract(file, join(tmp, 'out'), { maxBytes: 2 ** 30, maxEntries: 10 });
    clearInterval(sampler);
    expect(lstatSync(join(tmp, 'out', 'big')).size).toBe(size);
    // Loosely: it used to hold the whole unpacked file in memory.
    expect(peak - before).toBeLessThan(150 * 2 ** 20);
  });

  it('reads its limits from the environment, with documented defaults', async () => {
    const { uploadLimits } = await import('../../src/artifacts/safe-extract.js');
    expect(uploadLimits({})).toEqual({ maxBytes: 1024 * 2 ** 20, maxEntries: 50_000, maxRatio: 100 });
    expect(uploadLimits({ REWIND_MAX_UNPACKED_MB: '10', REWIND_MAX_UNPACKED_ENTRIES: '5', REWIND_MAX_UNPACK_RATIO: '20' })).toEqual({
      maxBytes: 10 * 2 ** 20,
      maxEntries: 5,
      maxRatio: 20,
    });
    expect(uploadLimits({ REWIND_MAX_UNPACKED_MB: 'lots' }).maxBytes).toBe(1024 * 2 ** 20);
  });

  it('refuses an upload that is not gzip', async () => {
    const file = join(tmp, 'plain.tar.gz');
    writeFileSync(file, rawTar([{ name: 'a', data: 'x' }]));
    const e = await refusal(safeExtract(file, join(tmp, 'out'), LIMITS));
    expect(e.code).toBe('INVALID_ARCHIVE');
    expect(e.message).toBe('the upload is not a gzip-compressed tar archive (.tar.gz); upload the source with "rewind deploy" or "rewind build"');
  });

  it.each([
    ['truncated gzip', () => gzipSync(rawTar([{ name: 'a', data: 'x'.repeat(5000) }])).subarray(0, 60)],
    ['gzip of something that is not tar', () => gzipSync(Buffer.from('hello, this is not a tarball'.repeat(40)))],
    [
      'a tar header with a bad checksum',
      () => {
        const t = rawTar([{ name: 'a', data: 'x' }]);
        t[0] = 'b'.charCodeAt(0);
        return gzipSync(t);
      },
    ],
  ])('refuses a corrupt upload: %s', async (_title, make) => {
    const file = join(tmp, 'bad.tar.gz');
    writeFileSync(file, make());
    const dest = join(tmp, 'out');
    const e = await refusal(safeExtract(file, dest, LIMITS));
    expect(e.code).toBe('INVALID_ARCHIVE');
    expect(e.message).toMatch(/^the upload is not a valid \.tar\.gz archive \(.+\); pack it again and retry$/);
    expect(existsSync(dest)).toBe(false);
  });
});

// ---- slugs ---------------------------------------------------------------------------------

describe('packDirectory', () => {
  it('never packs setuid, setgid, sticky or group/world-write bits into a slug', async () => {
    const dir = tree({ suid: '#!/bin/sh\n', open: 'x', 'sub/file': 'y' });
    execFileSync('chmod', ['4755', join(dir, 'suid')]);
    execFileSync('chmod', ['0666', join(dir, 'open')]);
    execFileSync('chmod', ['2777', join(dir, 'sub')]);
    symlinkSync('suid', join(dir, 'link'));
    await packDirectory(dir, join(tmp, 'modes.tar.gz'));
    const listing = execFileSync('tar', ['-tvzf', join(tmp, 'modes.tar.gz')], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x .* suid$/m);
    expect(listing).toMatch(/^-rw-r--r-- .* open$/m);
    expect(listing).toMatch(/^drwxr-xr-x .* sub\/$/m);
    expect(listing).toMatch(/^l\S+ .* link -> suid$/m);
  });

  it('packs everything, node_modules included, deterministically', async () => {
    const dir = tree({ '.gitignore': 'node_modules/\n', 'server.js': 's', 'node_modules/dep/index.js': 'd', BUILD_INFO: 'now' });
    mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
    symlinkSync('../dep/index.js', join(dir, 'node_modules/.bin/dep'));
    mkdirSync(join(dir, 'empty'));

    const first = await packDirectory(dir, join(tmp, 'slug1.tar.gz'));
    utimesSync(join(dir, 'server.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await packDirectory(dir, join(tmp, 'slug2.tar.gz'));
    expect(second).toEqual(first);
    expect(first).toEqual(await hashFile(join(tmp, 'slug1.tar.gz')));
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);

    const names = execFileSync('tar', ['-tzf', join(tmp, 'slug1.tar.gz')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(names).toEqual([
      '.gitignore',
      'BUILD_INFO',
      'empty/',
      'node_modules/',
      'node_modules/.bin/',
      'node_modules/.bin/dep',
      'node_modules/dep/',
      'node_modules/dep/index.js',
      'server.js',
    ]);

    const dest = join(tmp, 'slug');
    await safeExtract(join(tmp, 'slug1.tar.gz'), dest, LIMITS);
    expect(readFileSync(join(dest, 'node_modules/.bin/dep'), 'utf8')).toBe('d');
    expect(lstatSync(join(dest, 'empty')).isDirectory()).toBe(true);
    expect(await listTree(dest)).toEqual(await listTree(dir));
  });

  it('packs an empty directory', async () => {
    mkdirSync(join(tmp, 'empty'));
    await packDirectory(join(tmp, 'empty'), join(tmp, 'e.tar.gz'));
    await safeExtract(join(tmp, 'e.tar.gz'), join(tmp, 'out'), LIMITS);
    expect(readdirSync(join(tmp, 'out'))).toEqual([]);
  });
});
