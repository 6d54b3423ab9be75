import type { ReactElement } from 'react';
import { rewind } from '../api/rewind';
import { templates } from '../api/templates';
import type { BuildView, PlanBasis, PlanView, ReleaseView, UpgradeStatusView, UpgradeView } from '../api/types';
import { ownDescription } from '../lib/format';
import { ActionDialog, type PlannedPlan } from './action-dialog';
import { Id } from './primitives';
import { UpgradeIntro } from './upgrades-panel';

/** One of the actions that change what an environment runs; each opens the plan-then-confirm dialog. */
export type Action =
  | { readonly kind: 'rollback'; readonly release: ReleaseView }
  | { readonly kind: 'promote'; readonly release: ReleaseView }
  | { readonly kind: 'revert'; readonly release: ReleaseView }
  | { readonly kind: 'previous'; readonly release: ReleaseView }
  /** One component to another succeeded build of it: an earlier one, or (`forward`) a newer one than it runs. */
  | { readonly kind: 'component'; readonly component: string; readonly build: BuildView; readonly forward?: boolean }
  | { readonly kind: 'components'; readonly builds: Readonly<Record<string, string>> }
  | { readonly kind: 'promote-env'; readonly from: string; readonly to: string }
  | { readonly kind: 'upgrade'; readonly status: UpgradeStatusView; readonly version: string }
  | { readonly kind: 'upgrade-rollback'; readonly upgrade: UpgradeView };

async function activeRelease(app: string, env: string): Promise<string | null> {
  const a = await rewind.app(app);
  return a.environments.find((e) => e.name === env)?.activeRelease ?? null;
}

/** The release-promote route has no dry run: the server's diff from the active release, or with none its plan of a copy of the release (the same steps). */
async function promotePlan(app: string, env: string, release: string): Promise<PlanView> {
  const active = await activeRelease(app, env);
  return active ? rewind.diff(app, active, release) : rewind.rollbackPlan(app, { env, release });
}

/** The plan loader of an action: always the server's plan (its dry run or diff). */
function planFor(app: string, env: string, a: Action): () => Promise<PlannedPlan> {
  const plan = (): Promise<PlanView> => {
    switch (a.kind) {
      case 'upgrade':
        return templates.upgradePlan(app, { env, version: a.version });
      case 'rollback':
        return rewind.rollbackPlan(app, { env, release: a.release.id });
      // Without a release: the server plans the return to the state before the active release.
      case 'previous':
        return rewind.rollbackPlan(app, { env });
      case 'components':
        return rewind.rollbackPlan(app, { env, components: a.builds });
      // An upgrade's rollback is a rollback to the release that ran before it.
      case 'upgrade-rollback':
        return rewind.rollbackPlan(app, { env, release: a.upgrade.fromRelease ?? '' });
      case 'promote':
        return promotePlan(app, env, a.release.id);
      case 'revert':
        return rewind.revertPlan(app, a.release.id, env);
      case 'component':
        return rewind.rollbackPlan(app, { env, components: { [a.component]: a.build.id } });
      case 'promote-env':
        return rewind.promoteEnvPlan(app, { from: a.from, to: a.to });
    }
  };
  return async () => ({ plan: await plan() });
}

/** What every action's dialog takes: where it acts, its plan loader, and how it closes. */
interface DialogCommon {
  readonly app: string;
  readonly env: string;
  readonly loadPlan: () => Promise<PlannedPlan>;
  readonly onClose: () => void;
}

/** The dialog of each kind of action: its title, what it will do in words, and the change it runs once confirmed. */
const dialogs: { readonly [K in Action['kind']]: (common: DialogCommon, action: Extract<Action, { kind: K }>) => ReactElement } = {
  rollback: (common, action) => {
    const { app, env } = common;
    const id = action.release.id;
    const intro = (
      <p>
        Rewind makes a new release in <strong>{env}</strong> that copies <Id>{id}</Id> (its builds and config) and deploys it with zero downtime. Every release
        stays in the history.
      </p>
    );
    return (
      <ActionDialog
        {...common}
        title={`Roll back ${env} to ${id}`}
        intro={intro}
        confirmLabel="Roll back"
        run={(basis) => rewind.rollback(app, { env, release: id }, basis)}
      />
    );
  },
  previous: (common, action) => {
    const { app, env } = common;
    const id = action.release.id;
    const intro = (
      <p>
        Returns <strong>{env}</strong> to its state before <Id>{id}</Id>: each component runs the version it ran before, with the config it had, as a new
        release deployed with zero downtime. <Id>{id}</Id> is marked rolled back; every release stays in the history.
      </p>
    );
    const run = (basis?: PlanBasis) => rewind.rollback(app, { env }, basis);
    const label = 'Roll back to previous release';
    return <ActionDialog {...common} title={`Roll back ${env} to the previous release`} intro={intro} confirmLabel={label} finishLabel="Finish" run={run} />;
  },
  components: (common, action) => {
    const { app, env } = common;
    const names = Object.keys(action.builds);
    const intro = (
      <p>
        Moves {names.length === 1 ? 'one component' : `${names.length} components`} of <strong>{env}</strong> to the builds you picked (
        {names.map((n, i) => (
          <span key={n}>
            {i > 0 && ', '}
            {n} to <Id>{action.builds[n]}</Id>
          </span>
        ))}
        ) in one release, as a rolling update. Other components and the config stay as they are.
      </p>
    );
    const run = (basis?: PlanBasis) => rewind.rollback(app, { env, components: action.builds }, basis);
    return <ActionDialog {...common} title={`Roll back ${names.join(', ')} in ${env}`} intro={intro} confirmLabel="Roll back" run={run} />;
  },
  promote: (common, action) => {
    const { app, env } = common;
    const id = action.release.id;
    const intro = (
      <p>
        Makes <Id>{id}</Id> the active release of <strong>{env}</strong> as it is, with a zero-downtime deployment.
      </p>
    );
    return <ActionDialog {...common} title={`Promote ${id} in ${env}`} intro={intro} confirmLabel="Promote" run={() => rewind.promote(app, id, env)} />;
  },
  revert: (common, action) => {
    const { app, env } = common;
    const id = action.release.id;
    const intro = (
      <p>
        Undoes only what <Id>{id}</Id> changed, keeping every later change to other components and keys, as a new release in <strong>{env}</strong>.
      </p>
    );
    return (
      <ActionDialog {...common} title={`Revert ${id} in ${env}`} intro={intro} confirmLabel="Revert" run={(basis) => rewind.revert(app, id, env, basis)} />
    );
  },
  component: (common, action) => {
    const { app, env } = common;
    const { component, build, forward } = action;
    const intro = (
      <p>
        Moves just <strong>{component}</strong> in <strong>{env}</strong> {forward ? 'forward' : 'back'} to build <Id>{build.id}</Id> (
        {ownDescription(build.description) || 'no description'}) as a rolling update. Other components and the config stay as they are.
      </p>
    );
    const run = (basis?: PlanBasis) => rewind.rollback(app, { env, components: { [component]: build.id } }, basis);
    const title = forward ? `Roll ${component} forward to ${build.id} in ${env}` : `Roll back ${component} to ${build.id} in ${env}`;
    return <ActionDialog {...common} title={title} intro={intro} confirmLabel={forward ? 'Roll forward' : 'Roll back'} run={run} />;
  },
  'promote-env': (common, action) => {
    const { app } = common;
    const intro = (
      <p>
        Copies what runs in <strong>{action.from}</strong> into a new release of <strong>{action.to}</strong> and deploys it.
      </p>
    );
    const run = (basis?: PlanBasis) => rewind.promoteEnv(app, { from: action.from, to: action.to }, basis);
    return <ActionDialog {...common} env={action.to} title={`Promote ${action.from} → ${action.to}`} intro={intro} confirmLabel="Promote" run={run} />;
  },
  upgrade: (common, action) => {
    const { app, env } = common;
    const { status, version } = action;
    const intro = <UpgradeIntro app={app} env={env} status={status} version={version} />;
    const run = (basis?: PlanBasis) => templates.upgrade(app, { env, version, basis });
    return <ActionDialog {...common} title={`Upgrade ${env} to ${status.template} ${version}`} intro={intro} confirmLabel="Upgrade" run={run} />;
  },
  'upgrade-rollback': (common, action) => {
    const { app, env } = common;
    const u = action.upgrade;
    // An install over an earlier release goes back to that release, which ran no version of the template.
    const before =
      u.fromVersion === null ? `what ran before the install of ${u.template} ${u.toVersion}` : `what ran before the upgrade (${u.template} ${u.fromVersion})`;
    const intro = (
      <p>
        Rewind makes a new release in <strong>{env}</strong> that copies <Id>{u.fromRelease}</Id>, {before}, and deploys it with zero downtime. The upgrade's
        release <Id>{u.release}</Id> is marked rolled back; every release stays in the history.
      </p>
    );
    const run = (basis?: PlanBasis) => templates.rollback(app, { env, upgrade: u.id, basis });
    const title =
      u.fromVersion === null
        ? `Roll back the install of ${u.template} ${u.toVersion} in ${env}`
        : `Roll back ${env} from ${u.template} ${u.toVersion} to ${u.fromVersion}`;
    return <ActionDialog {...common} title={title} intro={intro} confirmLabel="Roll back" run={run} />;
  },
};

export function ActionFor({ app, env, action, onClose }: { app: string; env: string; action: Action; onClose: () => void }) {
  const common = { app, env, loadPlan: planFor(app, env, action), onClose };
  return (dialogs[action.kind] as (common: DialogCommon, action: Action) => ReactElement)(common, action);
}
