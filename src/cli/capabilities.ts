/**
 * What the CLI needs from other folders, declared here and handed in by the composition root
 * (src/main/rewind.ts), so that the CLI imports no server code. Each is a lazy loader, so that
 * `rewind releases` does not load the server, the agent, git or tar.
 */

export interface RunningService {
  readonly url: string;
  /** A one-time console login link (the server, unless it runs without authentication). */
  readonly loginUrl?: string | null;
  close(): Promise<void>;
}

/** `rewind server`'s settings. */
export interface ServerStartOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly httpPort?: number;
  readonly proxy?: 'builtin' | 'nginx';
  readonly publicUrl?: string;
  readonly insecureNoAuth?: boolean;
  readonly databaseUrl?: string;
}

/** `rewind agent`'s settings. */
export interface AgentStartOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly proxy: 'builtin' | 'nginx';
  readonly artifactRoot: string;
  readonly maxArtifactBytes: number;
  readonly portRange?: { readonly lo: number; readonly hi: number };
  readonly sharedPort?: number;
}

export interface CliCapabilities {
  /** Packs a source folder (honouring .gitignore and .rewindignore) as a tar.gz file. */
  loadSourcePack(): Promise<{ packSource(dir: string, outFile: string, onProgress?: (bytes: number) => void): Promise<unknown> }>;
  /** A clean git checkout's `build <12hex> <subject>`, or null. */
  loadGitDescribe(): Promise<{ describeGit(dir: string): Promise<string | null> }>;
  /** The control plane: store, agent, engine and API. */
  loadServer(): Promise<{ startServer(o: ServerStartOptions): Promise<RunningService> }>;
  /** `rewind store copy`: every record of one store into another, empty one, checked table by table. */
  loadStoreCopy(): Promise<{ copyStores(from: string, to: string): Promise<ReadonlyArray<{ table: string; rows: number; digest: string }>> }>;
  /** The agent: supervisor and proxy. */
  loadAgent(): Promise<{ runAgent(o: AgentStartOptions): Promise<RunningService> }>;
}
