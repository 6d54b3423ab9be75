// Types of rewind-processes.mjs for the TypeScript tests (the benchmarks import the .mjs directly).
import type { ChildProcess } from 'node:child_process';

export declare const ROOT: string;
export declare const BIN: string;
export declare function alive(pid: number): boolean;
export declare function signal(pid: number, sig: NodeJS.Signals): boolean;
export declare function stopPid(pid: number, graceMs?: number): Promise<void>;
export declare function rewindEnv(env?: Record<string, string>): Record<string, string>;
export declare function processesUnder(dir: string): number[];
export declare function freePort(): Promise<number>;

export interface AgentState {
  apps: Array<{ app: string; env: string; release: string | null; instances: Array<{ pid: number | null; release: string; state: string }> }>;
}

export declare class RewindProcesses {
  url: string;
  serverPid: number;
  agentPid: number;
  serverLog: string;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  constructor(dataDir: string, env?: Record<string, string>, onSpawn?: (child: ChildProcess) => void);
  spawn(args: string[], onOutput?: (chunk: Buffer) => void): ChildProcess;
  startAgent(extra?: string[]): Promise<void>;
  startServer(): Promise<void>;
  killServer(sig?: NodeJS.Signals): Promise<void>;
  agentInfo(): { pid: number; url: string };
  agentToken(): string;
  agentState(): Promise<AgentState>;
  instancePids(): Promise<Set<number>>;
  stop(): Promise<void>;
}
