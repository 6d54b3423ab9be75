import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { safeExtract, type ExtractLimits } from '../artifacts/safe-extract.js';
import { packDirectory } from '../artifacts/slug-pack.js';
import { hashTree } from '../artifacts/source-hash.js';
import type { BuildArtifacts } from '../builder/ports.js';

/** The builder's artifacts port: the artifact store, safe extraction within the upload limits, slug packing, source hashing. */
export function builderArtifacts(artifacts: ArtifactStore, limits: ExtractLimits): BuildArtifacts {
  return {
    receive: (stream, opts) => artifacts.receive(stream, opts),
    putFile: (tmpPath) => artifacts.putFile(tmpPath),
    unpack: async (tarGzPath, destDir) => void (await safeExtract(tarGzPath, destDir, limits)),
    pack: async (dir, outPath) => void (await packDirectory(dir, outPath)),
    hashTree,
  };
}
