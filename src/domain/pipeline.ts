import { RewindError } from './errors.js';
import { ENV_NAME } from './ids.js';

/** A release pipeline: ordered tasks, defined in rewind.yml under `pipelines:` or through the API. */
export type TaskDef =
  | { readonly kind: 'build'; readonly name: string }
  | {
      readonly kind: 'deploy';
      readonly name: string;
      readonly env: string;
      /** Back up what is live in `env` before deploying, so the run can be rolled back. */
      readonly enableRollback: boolean;
      /** Roll this run back if a later task fails. */
      readonly autoRollback: boolean;
      /** runtime: make it live; design: stage the release without making it live. */
      readonly mode: 'runtime' | 'design';
    }
  | { readonly kind: 'promote'; readonly name: string; readonly from: string; readonly to: string; readonly components?: readonly string[] }
  | { readonly kind: 'run'; readonly name: string; readonly command: string; readonly env: string; readonly timeoutMs: number }
  | { readonly kind: 'approval'; readonly name: string; readonly message: string };

export type TaskKind = TaskDef['kind'];

export interface PipelineDef {
  readonly name: string;
  readonly tasks: readonly TaskDef[];
}

const KINDS: readonly TaskKind[] = ['build', 'deploy', 'promote', 'run', 'approval'];
const KEYS: Record<TaskKind, readonly string[]> = {
  build: ['name'],
  deploy: ['name', 'env', 'enableRollback', 'autoRollback', 'mode'],
  promote: ['name', 'from', 'to', 'components'],
  run: ['name', 'command', 'env', 'timeout'],
  approval: ['name', 'message'],
};
const PIPELINE_NAME = /^[a-z][a-z0-9-]{0,40}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses the `pipelines:` value (from YAML or JSON): a map of name → list of tasks, each task a
 * bare kind (`build`, `approval`) or a one-key map `{ deploy: { env: test, enableRollback: true } }`.
 * Collects every problem, naming the pipeline, the task and the reason.
 */
export function parsePipelines(value: unknown, where = 'pipelines'): PipelineDef[] {
  const problems: string[] = [];
  if (!isObj(value)) throw new RewindError('INVALID_PIPELINE', `${where} must be a map of pipeline name → list of tasks`);
  const out: PipelineDef[] = [];
  for (const [name, tasks] of Object.entries(value)) {
    const at = `${where}.${name}`;
    if (!PIPELINE_NAME.test(name)) problems.push(`${at}: "${name}" is not a valid pipeline name (lower-case letters, digits and -, starting with a letter)`);
    if (!Array.isArray(tasks) || tasks.length === 0) {
      problems.push(`${at} must be a non-empty list of tasks (build, deploy, promote, run, approval)`);
      continue;
    }
    const defs = tasks.map((t, i) => parseTask(t, `${at}[${i + 1}]`, problems));
    if (defs.every((d): d is TaskDef => d !== null)) {
      const names = new Set<string>();
      defs.forEach((d, i) => {
        if (names.has(d.name)) problems.push(`${at}[${i + 1}] (${d.kind}): the task name "${d.name}" is used twice; give one a name:`);
        names.add(d.name);
      });
      out.push(Object.freeze({ name, tasks: Object.freeze(defs) }));
    }
  }
  if (problems.length) throw new RewindError('INVALID_PIPELINE', `invalid pipeline definition: ${problems.join('; ')}`, { errors: problems });
  return out;
}

function parseTask(t: unknown, at: string, problems: string[]): TaskDef | null {
  let kind: string;
  let o: Obj;
  if (typeof t === 'string') {
    kind = t;
    o = {};
  } else if (isObj(t) && Object.keys(t).length === 1) {
    kind = Object.keys(t)[0];
    const v = t[kind];
    o = v === null || v === undefined ? {} : isObj(v) ? v : { __bad: v };
    if ('__bad' in o) {
      problems.push(`${at} (${kind}): its options must be a map, e.g. { env: test }`);
      return null;
    }
  } else {
    problems.push(`${at}: a task is a kind (build, approval) or a one-key map like { deploy: { env: test } }`);
    return null;
  }
  if (!KINDS.includes(kind as TaskKind)) {
    problems.push(`${at}: "${kind}" is not a task kind (known: ${KINDS.join(', ')})`);
    return null;
  }
  const k = kind as TaskKind;
  const before = problems.length;
  const p = (msg: string) => problems.push(`${at} (${k}): ${msg}`);
  for (const key of Object.keys(o)) if (!KEYS[k].includes(key)) p(`${key} is not a known option (known: ${KEYS[k].join(', ')})`);
  const str = (key: string, required: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined) {
      if (required) p(`${key} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      p(`${key} must be text`);
      return undefined;
    }
    return v.trim();
  };
  const bool = (key: string): boolean => {
    const v = o[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') p(`${key} must be true or false`);
    return v === true;
  };
  const env = (key: string, required: boolean) => {
    const v = str(key, required);
    if (v !== undefined && !ENV_NAME.test(v)) p(`${key} "${v}" is not an environment name`);
    return v;
  };
  const name = str('name', false) ?? k;
  let def: TaskDef | null = null;
  if (k === 'build') def = { kind: k, name };
  else if (k === 'deploy') {
    const mode = str('mode', false) ?? 'runtime';
    if (mode !== 'runtime' && mode !== 'design') p(`mode must be runtime or design, got "${mode}"`);
    def = {
      kind: k,
      name,
      env: env('env', true) ?? '',
      enableRollback: bool('enableRollback'),
      autoRollback: bool('autoRollback'),
      mode: mode as 'runtime' | 'design',
    };
  } else if (k === 'promote') {
    const comps = o.components;
    if (comps !== undefined && !(Array.isArray(comps) && comps.every((c) => typeof c === 'string'))) p('components must be a list of component names');
    def = { kind: k, name, from: env('from', true) ?? '', to: env('to', true) ?? '', ...(Array.isArray(comps) ? { components: comps as string[] } : {}) };
  } else if (k === 'run') {
    const timeout = o.timeout === undefined ? 300 : o.timeout;
    if (typeof timeout !== 'number' || timeout <= 0 || timeout > 3600) p('timeout must be seconds from 1 to 3600');
    def = { kind: k, name, command: str('command', true) ?? '', env: env('env', true) ?? '', timeoutMs: Number(timeout) * 1000 };
  } else def = { kind: k, name, message: str('message', false) ?? 'Approve to continue' };
  return problems.length > before ? null : Object.freeze(def);
}

/** The environments a pipeline touches, for validation against the app. */
export function pipelineEnvironments(p: PipelineDef): string[] {
  const envs = new Set<string>();
  for (const t of p.tasks) {
    if (t.kind === 'deploy' || t.kind === 'run') envs.add(t.env);
    if (t.kind === 'promote') {
      envs.add(t.from);
      envs.add(t.to);
    }
  }
  return [...envs];
}
