/** Ctrl-C handling for long-running commands (server, agent, logs -f). */
export interface Interrupt {
  /** Aborted on SIGINT, SIGTERM or when the run's own signal aborts. */
  readonly signal: AbortSignal;
  /** Resolves once interrupted. */
  readonly wait: Promise<void>;
  /** Removes the handlers: a second Ctrl-C then stops the process the default way. */
  dispose(): void;
}

export function onInterrupt(outer?: AbortSignal): Interrupt {
  const controller = new AbortController();
  const stop = () => {
    dispose();
    controller.abort();
  };
  const dispose = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    outer?.removeEventListener('abort', stop);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  outer?.addEventListener('abort', stop, { once: true });
  const wait = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  if (outer?.aborted) stop();
  return { signal: controller.signal, wait, dispose };
}
