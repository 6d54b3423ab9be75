import { useEffect, useState, type ReactNode } from 'react';
import { auth } from '../api/client';
import { useLive } from '../lib/live';
import { Link } from '../lib/router';
import { Modal } from './modal';

/** The page frame: brand, where you are, whether live updates flow, and the API token. */
export function Layout({ children, crumbs }: { children: ReactNode; crumbs: ReadonlyArray<{ label: string; to?: string }> }) {
  const live = useLive();
  const [tokenOpen, setTokenOpen] = useState(false);
  const who = useIdentity();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand" aria-label="Rewind: all apps">
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path d="M12 4a8 8 0 1 1-7.5 10.8" fill="none" stroke="currentColor" strokeWidth="2.4" strokeLinecap="round" />
            <path d="M2.5 7.5l2 4.6 4.6-2" fill="none" stroke="currentColor" strokeWidth="2.4" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          Rewind
        </Link>
        <nav aria-label="Breadcrumb" className="crumbs">
          <ol>
            {crumbs.map((c, i) => (
              <li key={i}>{c.to && i < crumbs.length - 1 ? <Link to={c.to}>{c.label}</Link> : <span aria-current="page">{c.label}</span>}</li>
            ))}
          </ol>
        </nav>
        <span
          className={live.connected ? 'live on' : 'live off'}
          role="status"
          title={live.connected ? 'Live: changes appear as they happen' : 'Reconnecting to the server…'}
        >
          {live.connected ? 'Live' : 'Offline'}
        </span>
        <button type="button" className="ghost small" onClick={() => setTokenOpen(true)} aria-label={who ? `Logged in as ${who}: log out or change` : 'Log in'}>
          {who ?? 'Log in'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      {tokenOpen && <TokenDialog onClose={() => setTokenOpen(false)} />}
    </>
  );
}

/** The name the console is logged in as (the audit log's actor), or null when it is not. */
let identity: Promise<string | null> | null = null;
function useIdentity(): string | null {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    identity ??= auth.whoami().then(
      (w) => (w.via === 'none' ? null : w.name),
      () => null,
    );
    void identity.then(setName);
  }, []);
  return name;
}

function TokenDialog({ onClose }: { onClose: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const login = async () => {
    try {
      await auth.login(value.trim());
      window.location.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const logout = async () => {
    await auth.logout().catch(() => {});
    window.location.reload();
  };
  return (
    <Modal
      title="Log in"
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={() => void login()} disabled={!value.trim()}>
            Log in
          </button>
        </>
      }
    >
      <p>
        Paste an API token: the server's <code>admin.token</code> (in its data dir) or its <code>REWIND_TOKEN</code>. This browser then keeps a login cookie,
        never the token. Or run <code>npx rewind console</code> on the server's machine and open the link it prints.
      </p>
      <label className="field">
        Token
        <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
      </label>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
    </Modal>
  );
}
