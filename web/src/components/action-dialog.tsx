import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiFailure } from '../api/client';
import { rewind } from '../api/rewind';
import type { ChangeEvent, DeploymentView, PlanBasis, PlanView, ReleaseChange } from '../api/types';
import { useLive } from '../lib/live';
import { Link } from '../lib/router';
import { Badge, ErrorNote, Id, Loading } from './primitives';
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
  /** Carries the action out; `basis` is the shown plan's, so that the server refuses it (STALE_PLAN) if the environment changed since. */
  readonly run: (basis?: PlanBasis) => Promise<ReleaseChange>;
  readonly onClose: () => void;
  /** The button that closes the dialog once it is done (Boomi's form ends with Finish); Close by default. */
  readonly finishLabel?: string;
}

type Phase =
  | { at: 'plan' }
  | { at: 'starting' }
  | { at: 'running'; change: ReleaseChange }
  | { at: 'done'; change: ReleaseChange; deployment: DeploymentView | null; active: string | null };

/**
 * Every action that changes what runs (rollback, promote, component rollback, revert, upgrade) goes
 * through here: show the plan first, act only on Confirm, then stream the deployment and show the result.
 */
export function ActionDialog(p: ActionDialogProps) {
  const [planned, setPlanned] = useState<PlannedPlan | null>(null);
  const [planError, setPlanError] = useState<Error | null>(null);
  const [runError, setRunError] = useState<Error | null>(null);
  const [phase, setPhase] = useState<Phase>({ at: 'plan' });
  /** Why the plan on screen is not the one first shown: the environment changed while the dialog was open. */
  const [updated, setUpdated] = useState<string | null>(null);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;
  const plannedRef = useRef(planned);
  plannedRef.current = planned;

  useEffect(() => {
    p.loadPlan?.().then(setPlanned, setPlanError);
  }, []);

  // An open dialog follows its environment: after any change to the app, the plan is made again
  // (until Confirm), so what is confirmed is what the server will do.
  const { version, last } = useLive();
  const seen = useRef(version);
  useEffect(() => {
    if (version === seen.current) return;
    seen.current = version;
    if (!p.loadPlan || phaseRef.current.at !== 'plan' || (last && last.app !== null && last.app !== p.app)) return;
    const t = setTimeout(() => {
      p.loadPlan?.().then((next) => {
        if (phaseRef.current.at !== 'plan') return;
        const before = plannedRef.current;
        if (before && !samePlan(before.plan, next.plan)) setUpdated(`The plan was updated: ${changeText(last, p.env)}.`);
        setPlanned(next);
        setPlanError(null);
      }, setPlanError);
    }, 150);
    return () => clearTimeout(t);
  }, [version, last]);

  const finish = async (change: ReleaseChange, deployment: DeploymentView | null) => {
    const app = await rewind.app(p.app).catch(() => null);
    const active = app?.environments.find((e) => e.name === p.env)?.activeRelease ?? null;
    setPhase({ at: 'done', change, deployment, active });
  };

  const confirm = async () => {
    setRunError(null);
    setPhase({ at: 'starting' });
    try {
      const change = await p.run(planned?.plan.basis);
      if (change.deployment) setPhase({ at: 'running', change });
      else await finish(change, null);
    } catch (e) {
      // Refused as stale: nothing was done; the dialog shows the new plan, to confirm again.
      const fresh = e instanceof ApiFailure ? e.stalePlan<PlanView>() : undefined;
      if (fresh) {
        setPlanned({ plan: fresh });
        setUpdated('Nothing was done: the environment changed since this plan was made. This is the new plan; confirm it to carry it out.');
      }
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
        {busy ? 'Close (it keeps running)' : phase.at === 'done' ? (p.finishLabel ?? 'Close') : 'Close'}
      </button>
    );

  return (
    <Modal title={p.title} onClose={p.onClose} footer={footer} wide>
      <div className="intro">{p.intro}</div>
      {p.loadPlan && !planned && !planError && <Loading what="the plan" />}
      <ErrorNote error={planError} action="compute the plan" />
      {planned && (
        <>
          {updated && (phase.at === 'plan' || phase.at === 'starting') && (
            <p className="warn-note" role="status">
              {updated}
            </p>
          )}
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

const samePlan = (a: PlanView, b: PlanView) =>
  a.from === b.from && JSON.stringify([a.components, a.config, a.empty]) === JSON.stringify([b.components, b.config, b.empty]);

/** `production changed (env add:FEATURE_FLAG by admin)`, from the live event that made the plan move. */
function changeText(e: ChangeEvent | null, env: string): string {
  if (!e) return `${env} may have changed`;
  return `${e.env ?? env} changed (${e.action}${e.actor ? ` by ${e.actor}` : ''})`;
}

function Outcome({ app, env, phase }: { app: string; env: string; phase: Extract<Phase, { at: 'done' }> }) {
  const made = phase.change.release;
  const ok = !phase.deployment || phase.deployment.state === 'succeeded';
  // The result is below the plan and the log: bring it into view and give it the focus, so that
  // neither the eyes nor a screen reader or keyboard user are left at a Confirm button that is gone.
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
    ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div className={ok ? 'outcome ok' : 'outcome bad'} role="status" ref={ref} tabIndex={-1}>
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
