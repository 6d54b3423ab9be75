import { useId } from 'react';
import { templates } from '../api/templates';
import type { UpgradeStatusView, UpgradeView } from '../api/types';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';
import type { Action } from './actions';
import { Ago, Badge, ErrorNote, Id, StateBadge } from './primitives';

interface UpgradesPanelProps {
  readonly app: string;
  readonly env: string;
  /** Upgrade and Roll back open the host's plan-then-confirm dialog, like Rollback on the timeline. */
  readonly onAction: (a: Action) => void;
}

/**
 * Rainbond's upgrade interface for an environment installed from an app template: the version it
 * runs, "VERSION is available" with Upgrade, and the install and upgrade records with a one-click
 * Roll back. Renders nothing for an environment not installed from a template (or an older server).
 */
export function UpgradesPanel(p: UpgradesPanelProps) {
  return <Upgrades {...p} />;
}

/** "install 1.0" or "1.0 → 2.0". */
const fromTo = (u: UpgradeView) => (u.fromVersion === null ? `install ${u.toVersion}` : `${u.fromVersion} → ${u.toVersion}`);

function Upgrades({ app, env, onAction }: UpgradesPanelProps) {
  const headingId = useId();
  const res = useResource(`upgrades:${app}:${env}`, () => templates.upgrades(app, env), aboutApp(app));
  if (res.error) return <ErrorNote error={res.error} action={`load the upgrades of ${env}`} />;
  const s = res.data;
  if (!s || s.template === null) return null;
  return (
    <section className="section upgrades" aria-labelledby={headingId}>
      <h2 id={headingId}>Upgrades in {env}</h2>
      <p>
        {env} runs{' '}
        <strong>
          {s.template} {s.installed ?? '(no version)'}
        </strong>
        {s.installed !== null && s.installed === s.latest ? ', the newest version.' : '.'}
        {s.installed === null && ' Its install did not go live or every upgrade was rolled back.'}
      </p>
      {s.upgradable && s.latest && <Available status={s} latest={s.latest} onAction={onAction} />}
      <table className="table compact">
        <caption>Upgrade records, newest first</caption>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">From → to</th>
            <th scope="col">Release</th>
            <th scope="col">State</th>
            <th scope="col">When</th>
            <th scope="col">Rolled back</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {s.upgrades.map((u) => (
            <tr key={u.id} data-upgrade={u.id} data-rolled-back={u.rolledBackRelease ? 'true' : undefined}>
              <td>
                <Id>{u.id}</Id>
              </td>
              <td>{fromTo(u)}</td>
              <td>
                <Link to={`/apps/${app}/releases/${u.release}${env === 'production' ? '' : `?env=${encodeURIComponent(env)}`}`}>
                  <Id>{u.release}</Id>
                </Link>
              </td>
              <td>
                <StateBadge state={u.state} />
              </td>
              <td>
                <Ago at={u.createdAt} /> by {u.createdBy}
              </td>
              <td>
                {u.rolledBackRelease ? (
                  <>
                    <Badge tone="warn">rolled back</Badge> <Ago at={u.rolledBackAt} /> by {u.rolledBackBy}, to <Id>{u.rolledBackRelease}</Id>
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td className="right">
                {u.id === s.rollbackable && (
                  <button
                    type="button"
                    aria-label={`Roll back upgrade ${u.id} (${fromTo(u)})`}
                    onClick={() => onAction({ kind: 'upgrade-rollback', upgrade: u })}
                  >
                    Roll back
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Available({ status, latest, onAction }: { status: UpgradeStatusView; latest: string; onAction: (a: Action) => void }) {
  return (
    <div className="upgrade-notice" role="status">
      <span>
        <strong>{latest} is available</strong>: the newest version of {status.template}
        {status.installed ? `; ${status.env} can be upgraded from ${status.installed}.` : '.'}
      </span>
      <button
        type="button"
        className="primary"
        aria-label={`Upgrade ${status.env} to ${status.template} ${latest}`}
        onClick={() => onAction({ kind: 'upgrade', status, version: latest })}
      >
        Upgrade
      </button>
    </div>
  );
}

/** What an upgrade deploys, for its confirmation: the version's components and where it was published from. */
export function UpgradeIntro({ app, env, status, version }: { app: string; env: string; status: UpgradeStatusView; version: string }) {
  const template = status.template ?? '';
  const res = useResource(`template:${template}`, () => templates.get(template));
  const v = res.data?.versions.find((x) => x.version === version);
  return (
    <>
      <p>
        Rewind deploys{' '}
        <strong>
          {template} {version}
        </strong>{' '}
        in{' '}
        <strong>
          {app}/{env}
        </strong>{' '}
        as a new release with zero downtime: the version's components and manifest, with this environment's own config (variables the version defines and {env}{' '}
        lacks are added). One click on <em>Roll back</em> in the upgrade records undoes it.
      </p>
      <dl className="facts">
        <dt>Version</dt>
        <dd>
          {status.installed ?? 'none'} → {version}
        </dd>
        {v && (
          <>
            <dt>Components</dt>
            <dd>{v.components.join(', ')}</dd>
            <dt>Published</dt>
            <dd>
              from <Id>{v.sourceRelease}</Id> of {v.sourceApp}/{v.sourceEnv}, <Ago at={v.createdAt} /> by {v.createdBy}
            </dd>
            {v.note && (
              <>
                <dt>Note</dt>
                <dd>{v.note}</dd>
              </>
            )}
          </>
        )}
      </dl>
      <ErrorNote error={res.error} action={`load ${template} ${version}`} />
    </>
  );
}
