/**
 * What an untrusted archive may hold, entry by entry: files, folders and links only; every path,
 * symbolic link and hard link inside the destination; nothing written through a link; within the
 * limits of size and entries; and the modes files are unpacked with.
 */
import { posix } from 'node:path';
import type { ReadEntry } from 'tar';
import { RewindError } from '../domain/errors.js';
import type { ExtractLimits } from './extract-limits.js';
import { tooMuch } from './extract-limits.js';

/**
 * File modes as unpacked: never setuid, setgid or sticky, never group- or world-writable
 * (a file uploaded as 4755 must not become a setuid program on the server).
 */
export const safeMode = (mode: number): number => mode & ~0o7022;

const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const KIND: Record<string, string> = {
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a named pipe',
};

interface Seen {
  readonly name: string;
  readonly rel: string;
  readonly type: string;
  readonly target?: string;
}

/** Validates entry headers one by one (check), then the links between them (finish). */
export class EntryChecker {
  entries = 0;
  bytes = 0;
  private readonly seen: Seen[] = [];

  /** `symlinks`: every symlink of the archive when already known (second pass). */
  constructor(
    private readonly limits: ExtractLimits,
    private readonly known?: ReadonlySet<string>,
  ) {}

  get symlinks(): ReadonlySet<string> {
    return new Set(this.seen.filter((s) => s.type === 'SymbolicLink').map((s) => s.rel));
  }

  /** Checks one entry's header on its own; throws UNSAFE_ARCHIVE. */
  check(entry: ReadEntry): void {
    const name = entry.path;
    this.entries++;
    if (this.entries > this.limits.maxEntries) throw tooMuch('entries', this.limits);
    if (!ALLOWED.has(entry.type)) {
      const kind = KIND[entry.type] ?? `an entry of type ${entry.type}`;
      throw unsafe(name, `it is ${kind}; only files, folders and links are allowed`, 'type');
    }
    const rel = insidePath(name);
    if (rel === null) throw unsafe(name, 'paths must stay inside the source folder', 'path');
    const target = entry.linkpath ?? '';
    if (entry.type === 'SymbolicLink') {
      if (resolveLink(posix.dirname(rel), target, new Set()) === null) {
        throw unsafe(name, `it is a symbolic link to ${JSON.stringify(target)}, outside the source folder`, 'symlink');
      }
    } else if (entry.type === 'Link') {
      if (insidePath(target) === null) throw unsafe(name, `it is a hard link to ${JSON.stringify(target)}, outside the source folder`, 'hardlink');
    } else if (entry.type !== 'Directory') {
      this.bytes += entry.size;
      if (this.bytes > this.limits.maxBytes) throw tooMuch('bytes', this.limits);
    }
    const seen: Seen = { name, rel, type: entry.type, target };
    if (this.known) this.checkLinks(seen, this.known);
    else this.seen.push(seen);
  }

  /** Checks what needs the whole archive: nothing goes through a symbolic link. */
  finish(): void {
    const symlinks = this.symlinks;
    for (const s of this.seen) this.checkLinks(s, symlinks);
  }

  /**
   * Lexical resolution is sound only when no folder along the way is a link: refuse entries
   * inside a symlink, symlinks whose target walks through one, hard links to a symlink.
   */
  private checkLinks(s: Seen, symlinks: ReadonlySet<string>): void {
    const via = symlinkPrefix(s.rel, symlinks, false);
    if (via !== null) throw unsafe(s.name, `it is inside the symbolic link "${via}"; nothing may be written through a link`, 'through-link');
    if (s.type === 'SymbolicLink' && resolveLink(posix.dirname(s.rel), s.target ?? '', symlinks) === null) {
      throw unsafe(s.name, `it is a symbolic link to ${JSON.stringify(s.target)}, which goes through another link`, 'symlink');
    }
    if (s.type === 'Link') {
      const target = insidePath(s.target ?? '')!;
      const through = symlinkPrefix(target, symlinks, true);
      if (through !== null) throw unsafe(s.name, `it is a hard link to ${JSON.stringify(s.target)}, a symbolic link or a path through one`, 'hardlink');
    }
  }
}

/** The first symlink among the parents of `rel` (and `rel` itself when `self`), or null. */
function symlinkPrefix(rel: string, symlinks: ReadonlySet<string>, self: boolean): string | null {
  const parts = rel.split('/');
  const n = self ? parts.length : parts.length - 1;
  for (let i = 1; i <= n; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (symlinks.has(prefix)) return prefix;
  }
  return null;
}

/** The normalized relative path of an entry, or null if it is absolute or has a '..' segment. */
function insidePath(p: string): string | null {
  if (p === '' || isAbsoluteLike(p)) return null;
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) return null;
  return parts.length === 0 ? '.' : parts.join('/');
}

const isAbsoluteLike = (p: string) => p.includes('\0') || p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p);

/**
 * Resolves a symlink target against the link's folder, one component at a time, as the
 * kernel would when no folder walked through is itself a link (any in `symlinks` is
 * refused). Null when the target is absolute, leaves the root, or walks through a link.
 */
function resolveLink(linkDir: string, target: string, symlinks: ReadonlySet<string>): string | null {
  if (target === '' || isAbsoluteLike(target)) return null;
  const stack = linkDir === '.' ? [] : linkDir.split('/');
  for (const part of target.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (stack.length > 0 && symlinks.has(stack.join('/'))) return null;
    if (part === '..') {
      if (stack.length === 0) return null;
      stack.pop();
    } else stack.push(part);
  }
  return stack.join('/');
}

function unsafe(entry: string, why: string, reason: string): RewindError {
  return new RewindError('UNSAFE_ARCHIVE', `the upload has an unsafe entry ${JSON.stringify(entry)}: ${why}; remove it and try again`, {
    entry,
    reason,
  });
}
