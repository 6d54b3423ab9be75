/**
 * The parts of Docker Engine API v1.41's objects that a Swarm target reads or writes. Specs keep an
 * index signature: a spec read from `inspectService` goes back to `updateService` with every field
 * Docker sent, modelled here or not.
 */

export type Labels = Readonly<Record<string, string>>;

export interface PortConfig {
  Name?: string;
  Protocol?: 'tcp' | 'udp' | 'sctp';
  TargetPort: number;
  /** Absent in a spec: Docker picks a free host port per task (host mode) and reports it in the task. */
  PublishedPort?: number;
  PublishMode?: 'ingress' | 'host';
}

export interface HealthConfig {
  Test?: string[];
  /** Nanoseconds, as Docker takes every duration. */
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

export interface ContainerSpec {
  Image: string;
  Labels?: Labels;
  Command?: string[];
  Args?: string[];
  Env?: string[];
  Dir?: string;
  User?: string;
  HealthCheck?: HealthConfig;
  /** Nanoseconds between the stop signal and a kill. */
  StopGracePeriod?: number;
  StopSignal?: string;
  [field: string]: unknown;
}

export interface TaskSpec {
  ContainerSpec: ContainerSpec;
  RestartPolicy?: { Condition?: 'none' | 'on-failure' | 'any'; Delay?: number; MaxAttempts?: number; Window?: number };
  Placement?: { Constraints?: string[]; [field: string]: unknown };
  Networks?: { Target: string; Aliases?: string[] }[];
  /** Bump it to make Docker replace the tasks of an unchanged spec. */
  ForceUpdate?: number;
  [field: string]: unknown;
}

export interface UpdateConfig {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: 'continue' | 'pause' | 'rollback';
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: 'stop-first' | 'start-first';
}

export interface ServiceSpec {
  Name?: string;
  Labels?: Labels;
  TaskTemplate: TaskSpec;
  Mode?: { Replicated?: { Replicas?: number }; Global?: Record<string, never> };
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec?: { Mode?: 'vip' | 'dnsrr'; Ports?: PortConfig[] };
  [field: string]: unknown;
}

/** Swarm's object version: an update must carry the index it was computed from. */
export interface ObjectVersion {
  Index: number;
}

export interface Service {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: { Spec?: ServiceSpec['EndpointSpec']; Ports?: PortConfig[] };
  UpdateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string; Message?: string };
  /** Present when listed with `status=true`. */
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks?: number };
}

export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned';

export interface Task {
  ID: string;
  Version: ObjectVersion;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  Labels?: Labels;
  Spec: TaskSpec;
  DesiredState: TaskState;
  Status: {
    State: TaskState;
    Timestamp?: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
    PortStatus?: { Ports?: PortConfig[] };
  };
}

export interface SwarmNode {
  ID: string;
  Version: ObjectVersion;
  Spec: { Availability: 'active' | 'pause' | 'drain'; Role: 'worker' | 'manager'; Labels?: Labels; Name?: string };
  Description?: { Hostname?: string; Engine?: { EngineVersion?: string } };
  /** Addr: the address the node's tasks answer on. */
  Status: { State: 'unknown' | 'down' | 'ready' | 'disconnected'; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: 'unknown' | 'unreachable' | 'reachable'; Addr?: string };
}

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
}

export type LocalNodeState = '' | 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export interface EngineInfo {
  ID: string;
  Name: string;
  ServerVersion: string;
  Swarm: {
    NodeID: string;
    NodeAddr: string;
    LocalNodeState: LocalNodeState;
    ControlAvailable: boolean;
    Error: string;
    RemoteManagers?: { NodeID: string; Addr: string }[] | null;
    Nodes?: number;
    Managers?: number;
  };
}

export interface ImageSummary {
  /** `sha256:…`: what a local-only image is pinned by. */
  readonly id: string;
  /** `repo@sha256:…` for each registry the image was pushed to or pulled from. */
  readonly repoDigests: readonly string[];
  readonly tags: readonly string[];
  readonly labels: Labels;
}
