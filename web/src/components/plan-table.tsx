import type { PlanView } from '../api/types';
import { Badge, Id } from './primitives';

/** Shown over a plan whose every component is kept and whose config is unchanged. */
const planChangesNothing = (p: PlanView) => p.config.length === 0 && p.components.every((c) => c.action === 'keep');

const arrow = (from: string | null, to: string | null, action: string) => {
  if (action === 'keep') return <Id>{to}</Id>;
  if (action === 'add') return <Id>{to}</Id>;
  if (action === 'remove') return <s>{from}</s>;
  return (
    <>
      <Id>{from}</Id> → <Id>{to}</Id>
    </>
  );
};

const value = (from: string | null, to: string | null, action: string) =>
  action === 'add' ? (
    <code>{to}</code>
  ) : action === 'remove' ? (
    <s>{from}</s>
  ) : (
    <>
      <code>{from}</code> → <code>{to}</code>
    </>
  );

/** A plan: per component keep / change / add / remove, and the config keys added, changed and removed. */
export function PlanTable({ plan, caption = 'Plan' }: { plan: PlanView; caption?: string }) {
  return (
    <div className="plan" aria-label={caption} role="region">
      {planChangesNothing(plan) && <p className="note">Nothing changes: the components and config are the same.</p>}
      {plan.empty && <p className="warn-note">The environment will run nothing afterwards: every component is removed.</p>}
      <table className="table compact">
        <caption>Components</caption>
        <thead>
          <tr>
            <th scope="col">Component</th>
            <th scope="col">Action</th>
            <th scope="col">Build</th>
          </tr>
        </thead>
        <tbody>
          {plan.components.map((c) => (
            <tr key={c.component} data-action={c.action}>
              <th scope="row">{c.component}</th>
              <td>
                <Badge tone={`plan-${c.action}`}>{c.action}</Badge>
              </td>
              <td>{arrow(c.from, c.to, c.action)}</td>
            </tr>
          ))}
          {plan.components.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No components.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <table className="table compact">
        <caption>Config</caption>
        <tbody>
          {plan.config.map((c) => (
            <tr key={c.key} data-action={c.action}>
              <th scope="row">
                <code>{c.key}</code>
              </th>
              <td>
                <Badge tone={`plan-${c.action}`}>{c.action === 'add' ? 'added' : c.action === 'remove' ? 'removed' : 'changed'}</Badge>
              </td>
              <td>{value(c.from, c.to, c.action)}</td>
            </tr>
          ))}
          {plan.config.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No config changes.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
