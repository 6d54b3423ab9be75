import type { ComponentStepView, ConfigStepView, PlanView, ReleaseView } from '../api/types';
import { mask } from './format';

interface State {
  readonly builds: Readonly<Record<string, string>>;
  readonly config: Readonly<Record<string, string>>;
}

const EMPTY: State = { builds: {}, config: {} };

/**
 * What going from one release to another changes, computed from the two releases when the server
 * has no dry run or diff route yet. Same rules as the server's plans: per component
 * keep / change / add / remove, config keys added / changed / removed, secrets masked.
 */
export function comparePlan(app: string, env: string, from: ReleaseView | null, to: State & { id?: string; description?: string }): PlanView {
  const a = from ?? EMPTY;
  const names = [...new Set([...Object.keys(a.builds), ...Object.keys(to.builds)])].sort();
  const components = names.map((component): ComponentStepView => {
    const x = a.builds[component] ?? null;
    const y = to.builds[component] ?? null;
    return { component, action: x === null ? 'add' : y === null ? 'remove' : x === y ? 'keep' : 'change', from: x, to: y };
  });
  const keys = [...new Set([...Object.keys(a.config), ...Object.keys(to.config)])].sort();
  const config: ConfigStepView[] = [];
  for (const key of keys) {
    const x = a.config[key];
    const y = to.config[key];
    if (x === y) continue;
    const action = x === undefined ? 'add' : y === undefined ? 'remove' : 'change';
    config.push({ key, action, from: x === undefined ? null : mask(key, x), to: y === undefined ? null : mask(key, y) });
  }
  return {
    app,
    env,
    from: from?.id ?? null,
    source: to.id ?? null,
    description: to.description ?? '',
    empty: Object.keys(to.builds).length === 0,
    components,
    config,
  };
}

export const planChangesNothing = (p: PlanView) => p.config.length === 0 && p.components.every((c) => c.action === 'keep');
