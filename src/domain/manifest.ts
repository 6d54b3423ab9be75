import { RewindError } from './errors.js';
import { parseConvoxManifest } from './convox-manifest.js';
import { MANIFEST_FILES } from './manifest-types.js';
import type { Manifest, ManifestFile, ManifestReading } from './manifest-types.js';
import { readProcfile } from './procfile.js';
import { readRewindYml } from './rewind-manifest.js';

/**
 * The app manifest: `rewind.yml` at the source root, else a `convox.yml`, else a `Procfile`.
 * Pure: parse → normalize → rules, collecting every error with its line so that a
 * user fixes them all in one go. This module picks the file and is what the rest of the code
 * imports; the values are in manifest-types.ts, each file's reading in rewind-manifest.ts,
 * convox-manifest.ts and procfile.ts, what they share in manifest-yaml.ts.
 */

export type { ManifestIssue } from './manifest-yaml.js';
export { COMPONENT_NAME, DEFAULT_HEALTH_INTERVAL_S, DEFAULT_HEALTH_TIMEOUT_S, MAX_SCALE } from './manifest-yaml.js';
export type { ComponentSpec, Manifest, ManifestFile, ManifestReading, ManifestVariable } from './manifest-types.js';
export { MANIFEST_FILES } from './manifest-types.js';
export { COMPONENT_KEYS, HEALTH_KEYS, TOP_LEVEL_KEYS, parseManifest, readRewindYml } from './rewind-manifest.js';
export { parseProcfile, readProcfile } from './procfile.js';

/** The argv that runs a manifest command: commands are data, one executor runs them. */
export function buildCommandArgv(command: string): string[] {
  return ['/bin/sh', '-c', command];
}

/** Picks the manifest of an uploaded source: `rewind.yml`, else `convox.yml`, else `Procfile`. */
export function manifestFromFiles(files: Partial<Readonly<Record<ManifestFile, string>>>): Manifest {
  return readManifestFiles(files).manifest;
}

/**
 * Reads the manifest of an uploaded source: `rewind.yml`, else `convox.yml`, else `Procfile`
 * (the first that exists is read, even when it is invalid); the notes name the files not read.
 */
export function readManifestFiles(files: Partial<Readonly<Record<ManifestFile, string>>>): ManifestReading {
  const file = MANIFEST_FILES.find((f) => files[f] !== undefined);
  if (file === undefined) {
    throw new RewindError('NO_MANIFEST', 'no rewind.yml, convox.yml or Procfile at the root of the source; add a rewind.yml (see examples/hello)');
  }
  const text = files[file]!;
  const others = MANIFEST_FILES.filter((f) => f !== file && files[f] !== undefined);
  const notes = others.length > 0 ? [`${others.join(', ')} not read: ${file} comes first`] : [];
  if (file === 'convox.yml') {
    const r = parseConvoxManifest(text, file);
    return Object.freeze({ file, manifest: r.manifest, notes: [...notes, ...r.notes], variables: r.variables });
  }
  const r = file === 'rewind.yml' ? readRewindYml(text, file) : readProcfile(text, file);
  return Object.freeze({ file, manifest: r.manifest, notes: [...notes, ...r.notes], variables: [] });
}
