import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { readSse } from '../api/sse';
import type { ChangeEvent } from '../api/types';

/** The state of the one /api/events stream every page listens to. */
interface Live {
  readonly connected: boolean;
  /** Bumped on every change (and on reconnecting, when changes may have been missed). */
  readonly version: number;
  readonly last: ChangeEvent | null;
}

const LiveContext = createContext<Live>({ connected: false, version: 0, last: null });

export function LiveProvider({ children }: { children: ReactNode }) {
  const [live, setLive] = useState<Live>({ connected: false, version: 0, last: null });
  useEffect(() => {
    const ac = new AbortController();
    let delay = 500;
    let opened = false;
    const loop = async () => {
      while (!ac.signal.aborted) {
        try {
          await readSse(
            '/api/events',
            (event, data) => {
              if (event !== 'change') return;
              const change = JSON.parse(data) as ChangeEvent;
              setLive((l) => ({ connected: true, version: l.version + 1, last: change }));
            },
            ac.signal,
            () => {
              delay = 500;
              // Reconnected: refetch everything, in case changes were missed meanwhile.
              setLive((l) => ({ connected: true, version: opened ? l.version + 1 : l.version, last: null }));
              opened = true;
            },
          );
        } catch {
          // the server went away; try again below
        }
        if (ac.signal.aborted) return;
        setLive((l) => ({ ...l, connected: false }));
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    };
    void loop();
    return () => ac.abort();
  }, []);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export const useLive = () => useContext(LiveContext);

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: Error | null;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * Loads `load()` when `key` changes and again after every live change that `relevant` accepts
 * (default: all), keeping the last data on screen while it refetches.
 */
export function useResource<T>(key: string, load: () => Promise<T>, relevant?: (e: ChangeEvent) => boolean): Resource<T> {
  const { version, last } = useLive();
  const [state, setState] = useState<{ key: string; data: T | undefined; error: Error | null; loading: boolean }>({
    key,
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;
  const seen = useRef(version);
  const [liveTick, setLiveTick] = useState(0);

  useEffect(() => {
    if (version === seen.current) return;
    seen.current = version;
    if (last && relevantRef.current && !relevantRef.current(last)) return;
    const t = setTimeout(() => setLiveTick((n) => n + 1), 120);
    return () => clearTimeout(t);
  }, [version, last]);

  useEffect(() => {
    let current = true;
    setState((s) => (s.key === key ? { ...s, loading: true } : { key, data: undefined, error: null, loading: true }));
    loadRef.current().then(
      (data) => current && setState({ key, data, error: null, loading: false }),
      (error: Error) => current && setState((s) => ({ key, data: s.key === key ? s.data : undefined, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [key, tick, liveTick]);

  return {
    data: state.key === key ? state.data : undefined,
    error: state.key === key ? state.error : null,
    loading: state.loading,
    reload: () => setTick((n) => n + 1),
  };
}

/** A change event about one app. */
export const aboutApp = (app: string) => (e: ChangeEvent) => e.app === null || e.app === app;
