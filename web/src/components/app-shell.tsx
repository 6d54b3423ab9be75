import type { ReactNode } from 'react';
import { rewind } from '../api/rewind';
import type { AppView } from '../api/types';
import { aboutApp, useResource } from '../lib/live';
import { Link, setQuery, useLocation } from '../lib/router';
import { ErrorNote, Loading } from './primitives';
import { Layout } from './layout';

const TABS: ReadonlyArray<[string, string]> = [
  ['', 'Overview'],
  ['/releases', 'Releases'],
  ['/config', 'Config'],
  ['/deployments', 'Deployments'],
  ['/logs', 'Processes & logs'],
  ['/activity', 'Activity'],
];
/** Shown when the server has release pipelines. */
const PIPELINE_TABS: ReadonlyArray<[string, string]> = [
  ['/pipelines', 'Pipelines'],
  ['/stories', 'Stories'],
];

/** The selected environment: ?env=, else production, else the app's first. */
export function useEnv(app: AppView | undefined): string {
  const { query } = useLocation();
  const wanted = query.get('env');
  if (wanted) return wanted;
  const names = app?.environments.map((e) => e.name) ?? [];
  return names.includes('production') || names.length === 0 ? 'production' : names[0];
}

/** Frame of every page of one app: its name, tabs, and (for env-scoped pages) the environment picker. */
export function AppShell({
  app,
  children,
  title,
  envPicker = false,
}: {
  app: string;
  children: (a: AppView, env: string) => ReactNode;
  title?: string;
  envPicker?: boolean;
}) {
  const res = useResource(`app:${app}`, () => rewind.app(app), aboutApp(app));
  const env = useEnv(res.data);
  const { path } = useLocation();
  const tabs = [...TABS.slice(0, 4), ...PIPELINE_TABS, ...TABS.slice(4)];
  const base = `/apps/${app}`;
  const crumbs = [{ label: 'Apps', to: '/' }, { label: app, to: base }, ...(title ? [{ label: title }] : [])];
  const envQuery = env !== 'production' ? `?env=${encodeURIComponent(env)}` : '';
  return (
    <Layout crumbs={crumbs}>
      <div className="app-head">
        <h1>{app}</h1>
        {envPicker && res.data && res.data.environments.length > 1 && (
          <label className="env-picker">
            Environment
            <select value={env} onChange={(e) => setQuery('env', e.target.value)}>
              {res.data.environments.map((e) => (
                <option key={e.name}>{e.name}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      <nav className="tabs" aria-label={`${app} sections`}>
        {tabs.map(([suffix, label]) => {
          const to = base + suffix;
          const current = suffix === '' ? path === base || path === `${base}/` : path.startsWith(to);
          return (
            <Link
              key={suffix}
              to={to + (suffix && !PIPELINE_TABS.some(([s]) => s === suffix) ? envQuery : '')}
              aria-current={current ? 'page' : undefined}
              className={current ? 'tab current' : 'tab'}
            >
              {label}
            </Link>
          );
        })}
      </nav>
      <ErrorNote error={res.error} action={`load ${app}`} />
      {!res.data && !res.error && <Loading what={app} />}
      {res.data && children(res.data, env)}
    </Layout>
  );
}
