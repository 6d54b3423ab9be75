import { ActivityList } from '../components/activity-list';
import { AppShell } from '../components/app-shell';

/** Who did what and when, from the audit log. */
export function ActivityPage({ app }: { app: string }) {
  return (
    <AppShell app={app} title="Activity">
      {() => <ActivityList app={app} limit={200} />}
    </AppShell>
  );
}
