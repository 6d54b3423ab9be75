import { useState } from 'react';
import { isSecret, MASK } from '../lib/format';

/** Environment variables, secret-looking values masked until revealed one by one. */
export function ConfigTable({
  config,
  caption = 'Config',
  hideCaption = false,
}: {
  config: Readonly<Record<string, string>>;
  caption?: string;
  hideCaption?: boolean;
}) {
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const keys = Object.keys(config).sort();
  const toggle = (k: string) =>
    setShown((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  return (
    <table className="table compact config">
      <caption className={hideCaption ? 'sr-only' : undefined}>{caption}</caption>
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td>
              <code className="value">{isSecret(k) && !shown.has(k) ? MASK : config[k]}</code>
            </td>
            <td className="right">
              {isSecret(k) && (
                <button type="button" className="ghost small" onClick={() => toggle(k)} aria-label={`${shown.has(k) ? 'Hide' : 'Reveal'} ${k}`}>
                  {shown.has(k) ? 'Hide' : 'Reveal'}
                </button>
              )}
            </td>
          </tr>
        ))}
        {keys.length === 0 && (
          <tr>
            <td className="muted">No variables.</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
