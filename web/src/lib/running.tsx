import { useEffect } from 'react';
import { rewind } from '../api/rewind';
import type { DeploymentView } from '../api/types';
import { aboutApp, useLive, useResource } from './live';

const RUNNING = new Set(['pending', 'running']);

/**
 * The deployment running in app/env now, if any, so that a page can say so and hold back the
 * actions the server would refuse meanwhile (409), instead of letting the user learn it from one.
 * Refetched on the app's changes, once more shortly after (a deploy records its release just
 * before its deployment starts), and every 1.5 s while one runs, until it ends.
 */
export function useRunningDeployment(app: string, env: string): DeploymentView | null {
  const res = useResource(`running:${app}:${env}`, () => rewind.deployments(app, env, 5), aboutApp(app));
  const { version } = useLive();
  const running = res.data?.find((d) => RUNNING.has(d.state)) ?? null;
  useEffect(() => {
    const t = setTimeout(res.reload, 1200);
    return () => clearTimeout(t);
  }, [version]);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(res.reload, 1500);
    return () => clearInterval(t);
  }, [running?.id]);
  return running;
}
