import type { ReactNode } from 'react';
import { Empty } from './components/primitives';
import { Layout } from './components/layout';
import { match, Link, useLocation } from './lib/router';
import { ActivityPage } from './pages/activity-page';
import { AppPage } from './pages/app-page';
import { AppsPage } from './pages/apps-page';
import { BuildPage } from './pages/build-page';
import { ComponentPage } from './pages/component-page';
import { ConfigPage } from './pages/config-page';
import { DeploymentPage, DeploymentsPage } from './pages/deployments-page';
import { LogsPage } from './pages/logs-page';
import { PipelinesPage } from './pages/pipelines-page';
import { RunPage } from './pages/run-page';
import { StoriesPage, StoryPage } from './pages/stories-page';
import { ReleasePage } from './pages/release-page';
import { ReleasesPage } from './pages/releases-page';

type Params = Record<string, string>;

/** Client routes; the server answers each of them with index.html. */
const ROUTES: ReadonlyArray<[string, (p: Params) => ReactNode]> = [
  ['/', () => <AppsPage />],
  ['/apps/:app', (p) => <AppPage app={p.app} />],
  ['/apps/:app/releases', (p) => <ReleasesPage app={p.app} />],
  ['/apps/:app/releases/:id', (p) => <ReleasePage app={p.app} id={p.id} />],
  ['/apps/:app/config', (p) => <ConfigPage app={p.app} />],
  ['/apps/:app/deployments', (p) => <DeploymentsPage app={p.app} />],
  ['/apps/:app/deployments/:id', (p) => <DeploymentPage app={p.app} id={p.id} />],
  ['/apps/:app/components/:component', (p) => <ComponentPage app={p.app} component={p.component} />],
  ['/apps/:app/builds/:id', (p) => <BuildPage app={p.app} id={p.id} />],
  ['/apps/:app/logs', (p) => <LogsPage app={p.app} />],
  ['/apps/:app/activity', (p) => <ActivityPage app={p.app} />],
  ['/apps/:app/pipelines', (p) => <PipelinesPage app={p.app} />],
  ['/apps/:app/pipelines/runs/:id', (p) => <RunPage app={p.app} id={p.id} />],
  ['/apps/:app/stories', (p) => <StoriesPage app={p.app} />],
  ['/apps/:app/stories/:id', (p) => <StoryPage app={p.app} id={p.id} />],
];

export function App() {
  const { path } = useLocation();
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path);
    if (params) return <div key={pattern + JSON.stringify(params)}>{render(params)}</div>;
  }
  return (
    <Layout crumbs={[{ label: 'Not found' }]}>
      <Empty title="No such page">
        <p>
          <Link to="/">Back to the apps</Link>
        </p>
      </Empty>
    </Layout>
  );
}
