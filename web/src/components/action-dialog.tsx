import { useEffect, useState, type ReactNode } from 'react';
import { rewind } from '../api/rewind';
import type { DeploymentView, PlanView, ReleaseChange } from '../api/types';
import { Link } from '../lib/router';
import { Badge, ErrorNote, Id, Loading } from './bits';
import { DeploymentLog } from './deployment-log';
import { Modal } from './modal';
import { PlanTable } from './plan-table';

export interface PlannedPlan {
  readonly plan: PlanView;
  /** Said under the plan, e.g. when the console computed it itself. */
  readonly note?: string;
}

export interface ActionDialogProps {
  readonly title: string;
  readonly app: string;
  readonly env: string;
  readonly intro: ReactNode;
  readonly confirmLabel: string;
  /** Absent when the server has no plan for the action (an upgrade builds its release from a template version): the intro says what happens. */
  readonly loadPlan?: () => Promise<PlannedPlan>;
  readonly run: () => Promise<ReleaseChange>;
  readonly onClose: () => void;
}

type Phase = { at: 'plan' } | { at: 'starting' } | { at: 'running'; change: ReleaseChange } | { at: 'done'; change: ReleaseChange; deployment: DeploymentView | null; active: string | null };

/**
 * Every action that changes what runs (rollback, promote, component rollback, revert, upgrade) goes
 * through here: show the plan first, act only on Confirm, then stream the deployment and show the result.
 */
export function ActionDialog(p: ActionDialogProps) {
  const [planned, setPlanned] = useState<PlannedPlan | null>(null);
  const [planError, setPlanError] = useState<Error | null>(null);
  const [runError, setRunError] = useState<Error | null>(null);
  const [phase, setPhase] = useState<Phase>({ at: 'plan' });

  useEffect(() => {
    p.loadPlan?.().then(setPlanned, setPlanError);
    // The plan is loaded once, when the dialog opens.
  }, []);

  const finish = async (change: ReleaseChange, deployment: DeploymentView | null) => {
    const app = await rewind.app(p.app).catch(() => null);
    const active = app?.environments.find((e) => e.name === p.env)?.activeRelease ?? null;
    setPhase({ at: 'done', change, deployment, active });
  };

  const confirm = async () => {
    setRunError(null);
    setPhase({ at: 'starting' });
    try {
      const change = await p.run();
      if (change.deployment) setPhase({ at: 'running', change });
      else await finish(change, null);
    } catch (e) {
      setRunError(e as Error);
      setPhase({ at: 'plan' });
    }
  };

  const busy = phase.at === 'starting' || phase.at === 'running';
  const footer =
    phase.at === 'plan' || phase.at === 'starting' ? (
      <>
        <button type="button" onClick={p.onClose}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={confirm} disabled={(p.loadPlan && !planned) || busy} autoFocus>
          {phase.at === 'starting' ? 'Starting…' : p.confirmLabel}
        </button>
      </>
    ) : (
      <button type="button" className={phase.at === 'done' ? 'primary' : ''} onClick={p.onClose}>
        {busy ? 'Close (it keeps running)' : 'Close'}
      </button>
    );

  return (
    <Modal title={p.title} onClose={p.onClose} footer={footer} wide>
      <div className="intro">{p.intro}</div>
      {p.loadPlan && !planned && !planError && <Loading what="the plan" />}
      <ErrorNote error={planError} action="compute the plan" />
      {planned && (
        <>
          <PlanTable plan={planned.plan} caption={phase.at === 'plan' || phase.at === 'starting' ? 'What will change' : 'What changes'} />
          {planned.note && <p className="muted small">{planned.note}</p>}
        </>
      )}
      <ErrorNote error={runError} action={p.confirmLabel.toLowerCase()} />
      {(phase.at === 'running' || phase.at === 'done') && phase.change.deployment && (
        <DeploymentLog id={phase.change.deployment.id} onEnd={(d) => void finish(phase.change, d)} />
      )}
      {phase.at === 'done' && <Outcome app={p.app} env={p.env} phase={phase} />}
    </Modal>
  );
}

function Outcome({ app, env, phase }: { app: string; env: string; phase: Extract<Phase, { at: 'done' }> }) {
  const made = phase.change.release;
  const ok = !phase.deployment || phase.deployment.state === 'succeeded';
  return (
    <div className={ok ? 'outcome ok' : 'outcome bad'} role="status">
      {ok ? (phase.deployment ? 'Done.' : `Release ${made.id} was made (not deployed).`) : 'The deployment did not succeed.'}{' '}
      {phase.active && (
        <>
          Active release in {env}:{' '}
          <Link to={`/apps/${app}/releases/${phase.active}`} className="active-release">
            <Id>{phase.active}</Id>
          </Link>{' '}
          {phase.active === made.id && <Badge tone="active">active</Badge>}
        </>
      )}
    </div>
  );
}
