/** The limits of an unpacked upload: what they are, where they are set, and the refusal when one is passed. */
import { RewindError } from '../domain/errors.js';
import { formatMB } from './artifact-store.js';

export interface ExtractLimits {
  /** Total unpacked size of the files. */
  readonly maxBytes: number;
  /** Number of entries (files, folders, links). */
  readonly maxEntries: number;
  /** Unpacked bytes per byte of the archive, checked once more than RATIO_FLOOR is unpacked. */
  readonly maxRatio?: number;
}

/** Below this much unpacked, the ratio is not checked (small archives of text compress very well). */
export const RATIO_FLOOR = 64 * 1024 * 1024;

/** The environment variables that set the limits of source uploads (see docs/limits.md). */
export const LIMIT_VARS = { maxBytes: 'REWIND_MAX_UNPACKED_MB', maxEntries: 'REWIND_MAX_UNPACKED_ENTRIES', maxRatio: 'REWIND_MAX_UNPACK_RATIO' } as const;

/** Limits of a source upload: 1024 MB unpacked, 50,000 entries, 100 times the archive's size; each overridable by its variable. */
export function uploadLimits(env: Readonly<Record<string, string | undefined>> = process.env): Required<ExtractLimits> {
  const num = (name: string, fallback: number) => {
    const v = Number(env[name] ?? '');
    return env[name] !== undefined && env[name] !== '' && Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    maxBytes: Math.floor(num(LIMIT_VARS.maxBytes, 1024) * 1024 * 1024),
    maxEntries: Math.floor(num(LIMIT_VARS.maxEntries, 50_000)),
    maxRatio: num(LIMIT_VARS.maxRatio, 100),
  };
}

/** The refusal of an archive over a limit: 413, naming the limit and the variable that sets it. */
export function tooMuch(what: 'bytes' | 'entries' | 'ratio', limits: ExtractLimits): RewindError {
  const message =
    what === 'bytes'
      ? `the upload unpacks to more than ${formatMB(limits.maxBytes)} MB (the limit, set by ${LIMIT_VARS.maxBytes}); add large files to .rewindignore and try again`
      : what === 'entries'
        ? `the upload has more than ${limits.maxEntries} entries (the limit, set by ${LIMIT_VARS.maxEntries}); add generated or vendored folders to .rewindignore and try again`
        : `the upload unpacks to more than ${limits.maxRatio} times its size (the limit, set by ${LIMIT_VARS.maxRatio}); it looks like a compression bomb: upload the source itself`;
  const limit = what === 'bytes' ? limits.maxBytes : what === 'entries' ? limits.maxEntries : limits.maxRatio;
  return new RewindError('UPLOAD_TOO_LARGE', message, { reason: what === 'bytes' ? 'too-large' : what === 'entries' ? 'too-many-entries' : 'ratio', limit });
}
