import { useEffect, useRef, useState } from 'react';
import { streamText } from '../api/sse';
import { ErrorNote } from './primitives';

/** A text stream (build output, app logs) appended as it arrives, kept scrolled to the end. */
export function TextStream({ path, label, max = 200_000 }: { path: string; label: string; max?: number }) {
  const [text, setText] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const ac = new AbortController();
    setText('');
    setDone(false);
    setError(null);
    streamText(path, (chunk) => setText((t) => (t + chunk).slice(-max)), ac.signal).then(
      () => !ac.signal.aborted && setDone(true),
      (e: Error) => !ac.signal.aborted && setError(e),
    );
    return () => ac.abort();
  }, [path, max]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <>
      <pre className="log text" ref={box} aria-label={label} aria-live="off" tabIndex={0}>
        {text || (done ? '(no output)' : 'Waiting for output…')}
      </pre>
      <ErrorNote error={error} action={`read ${label.toLowerCase()}`} />
    </>
  );
}
