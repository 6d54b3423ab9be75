import { isSecret } from '../lib/format';

export interface Row {
  readonly key: string;
  readonly value: string;
  readonly removed: boolean;
  /** Added in this edit (its key can still be typed). */
  readonly fresh: boolean;
}

/** Editable rows of KEY = value; secret-looking values are password fields. */
export function ConfigEditor({ rows, onChange }: { rows: readonly Row[]; onChange: (rows: Row[]) => void }) {
  const update = (i: number, patch: Partial<Row>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <>
      <table className="table compact config-edit">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className={r.removed ? 'removed' : undefined}>
              <td>
                {r.fresh ? (
                  <input aria-label="New variable name" value={r.key} placeholder="NAME" onChange={(e) => update(i, { key: e.target.value.toUpperCase() })} />
                ) : (
                  <code>{r.key}</code>
                )}
              </td>
              <td>
                <input
                  aria-label={`Value of ${r.key || 'the new variable'}`}
                  type={isSecret(r.key) ? 'password' : 'text'}
                  value={r.value}
                  disabled={r.removed}
                  onChange={(e) => update(i, { value: e.target.value })}
                />
              </td>
              <td className="right">
                <button
                  type="button"
                  className="ghost small"
                  onClick={() => update(i, { removed: !r.removed })}
                  aria-label={`${r.removed ? 'Keep' : 'Remove'} ${r.key || 'the new variable'}`}
                >
                  {r.removed ? 'Keep' : 'Remove'}
                </button>
              </td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No variables yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <button type="button" onClick={() => onChange([...rows, { key: '', value: '', removed: false, fresh: true }])}>
        Add a variable
      </button>
    </>
  );
}
