import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentEventView, DeploymentView } from '../contract/index.js';
import type { Cli } from './context.js';
import { CliError, UnreachableError } from './errors.js';
import { eventLine } from './format.js';

const FINISHED = new Set(['succeeded', 'failed', 'rolled-back']);

/**
 * Prints a deployment's steps (`TIMESTAMP message`) as they stream in over SSE and returns the
 * finished deployment; throws `deployment D… failed: …` unless it succeeded. A dropped stream is
 * resumed (steps already shown are skipped by their seq).
 */
export async function followDeployment(cli: Cli, deployment: DeploymentView): Promise<DeploymentView> {
  let lastSeq = -Infinity;
  let final: DeploymentView | undefined;
  // Consecutive connection failures: a restarting server gets about half a minute to come back.
  let failures = 0;
  while (!final) {
    try {
      for await (const ev of await cli.client.deploymentEvents(deployment.id)) {
        failures = 0;
        if (ev.event === 'step') {
          const step = parse(ev.data) as DeploymentEventView | null;
          if (!step || step.seq <= lastSeq) continue;
          lastSeq = step.seq;
          cli.out.line(eventLine(step.at, step.message));
        } else if (ev.event === 'end') {
          const d = parse(ev.data) as DeploymentView | null;
          if (d && FINISHED.has(d.state)) final = d;
          break;
        }
      }
      // The stream ended early (e.g. the server is restarting): ask, then resume.
      if (!final) {
        const now = await cli.client.getDeployment(deployment.id);
        if (FINISHED.has(now.state)) final = now;
      }
    } catch (err) {
      if (!(err instanceof UnreachableError) || ++failures > 10) throw err;
    }
    if (!final) await sleep(Math.min(5000, 500 * Math.max(1, failures)));
  }
  if (final.state !== 'succeeded') {
    throw new CliError(`deployment ${final.id} failed: ${final.error ?? final.state}`, 1);
  }
  return final;
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

/**
 * Copies a text stream (logs) to stdout, ending with a newline; keeps the last `keep` lines
 * (for --json runs, which print nothing while streaming). Stops quietly when `signal` aborts.
 */
export async function pipeText(
  cli: Cli,
  stream: AsyncIterable<string>,
  opts: { keep?: number; signal?: AbortSignal; onText?: (text: string) => void } = {},
): Promise<string[]> {
  const keep = opts.keep ?? 0;
  const tail: string[] = [];
  let partial = '';
  let endsWithNewline = true;
  try {
    for await (const text of stream) {
      (opts.onText ?? ((t: string) => cli.out.raw(t)))(text);
      endsWithNewline = text.endsWith('\n');
      if (keep > 0) {
        const parts = (partial + text).split('\n');
        partial = parts.pop() ?? '';
        tail.push(...parts);
        if (tail.length > keep) tail.splice(0, tail.length - keep);
      }
    }
  } catch (err) {
    if (!opts.signal?.aborted) throw err;
  }
  if (!endsWithNewline && !opts.onText) cli.out.raw('\n');
  if (keep > 0 && partial) tail.push(partial);
  return keep > 0 ? tail.slice(-keep) : [];
}
