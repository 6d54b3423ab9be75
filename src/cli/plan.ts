/**
 * Plans before action: rollbacks, reverts and promotions show what they will do per component
 * and config key, ask in a terminal, and change nothing with --dry-run. The server computes every
 * plan (one engine operation behind one route); this module only prints, asks and follows.
 */
import { formatPlan, planChangesNothing } from '../domain/plan.js';
import { RewindError, isRewindError } from '../domain/errors.js';
import type { PlanBasis, PlanView } from '../contract/index.js';
import type { Planned } from './client.js';
import type { Cli } from './context.js';
import { ApiResponseError, CliError, ExitStatus } from './errors.js';
import { followDeployment } from './follow.js';

/** `Plan: DESCRIPTION in APP/ENV (active: R…)`, then per component `keep | change B… → B… | add | remove` and the config keys. */
export function planLines(plan: PlanView): string[] {
  return [`Plan: ${plan.description} in ${plan.app}/${plan.env} (active: ${plan.from ?? 'none'})`, ...planBody(plan)];
}

/** `rewind diff R1 R2`: the same lines, headed by the two releases. */
export function diffLines(plan: PlanView): string[] {
  return [`Diff ${plan.from ?? 'none'} → ${plan.source ?? 'none'}`, ...planBody(plan)];
}

function planBody(plan: PlanView): string[] {
  const lines = formatPlan(plan);
  if (planChangesNothing(plan)) lines.push('  nothing changes');
  else if (plan.empty) lines.push(`  ${plan.env} will run nothing`);
  return lines;
}

export interface PlanFlags {
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

export interface PlannedCommand {
  /** Calls the API; a dry run answers only the plan and changes nothing. `basis`: the plan shown, which must still hold. */
  readonly call: (dryRun: boolean, basis?: PlanBasis) => Promise<Planned>;
  /** The step label once the plan is known: `Rolling back to R…`. */
  readonly label: (plan: PlanView) => string;
  /** A label known before calling, printed first (Convox's `Rolling back to RID...`). */
  readonly early?: string;
}

/**
 * Runs a planned command: --dry-run prints the plan and stops; in a terminal (unless --yes) the
 * plan is shown and `Proceed? [y/N]` asked, a no ending with `cancelled; nothing changed`; then
 * the release is made and its rollout streamed, ending `OK, R…`. --json prints the API's answer.
 */
export async function runPlanned(cli: Cli, flags: PlanFlags, command: PlannedCommand): Promise<void> {
  const out = cli.out;
  let shown: PlanView | undefined;
  if (flags.dryRun || (cli.interactive && !flags.yes)) {
    const { plan } = await command.call(true);
    if (flags.dryRun) {
      out.lines(planLines(plan));
      out.result({ plan });
      return;
    }
    show(cli, planLines(plan));
    if (!(await cli.confirm('Proceed? [y/N]'))) throw new CliError('cancelled; nothing changed', 1);
    shown = plan;
  }
  const early = shown ? command.label(shown) : command.early;
  if (early) out.start(early);
  const change = await refusedIfStale(cli, () => command.call(false, shown?.basis), planLines);
  if (!('release' in change)) throw new CliError('the server answered with a plan but made no release; nothing changed');
  if (!early) out.start(command.label(change.plan));
  if (shown && !samePlan(shown, change.plan)) {
    out.close();
    cli.warn(`warning: ${change.plan.app}/${change.plan.env} changed after the plan was shown; this is what is being done:`);
    for (const line of planLines(change.plan)) cli.warn(line);
  }
  const deployment = change.deployment ? await followDeployment(cli, change.deployment) : null;
  out.done(`OK, ${change.release.id}`);
  out.result({ release: change.release, deployment, plan: change.plan });
}

/** The new plan a STALE_PLAN refusal carries, if `err` is one. */
export function stalePlanOf<P>(err: unknown): P | undefined {
  const code = isRewindError(err) || err instanceof ApiResponseError ? err.code : undefined;
  if (code !== 'STALE_PLAN') return undefined;
  return (err as { details?: { plan?: P } }).details?.plan ?? undefined;
}

/**
 * Applies a confirmed plan. When the server refuses it as stale (the environment changed since),
 * prints the one-line error, then the new plan, on stderr, and exits 2: nothing was done.
 */
export async function refusedIfStale<T, P>(cli: Cli, apply: () => Promise<T>, lines: (plan: P) => string[]): Promise<T> {
  try {
    return await apply();
  } catch (err) {
    const fresh = stalePlanOf<P>(err);
    if (fresh === undefined) throw err;
    cli.out.close();
    cli.io.stderr.write(`${cli.errorLine(`error: ${(err as Error).message}`)}\n`);
    cli.io.stderr.write('The new plan (run the command again to confirm it):\n');
    for (const line of lines(fresh)) cli.io.stderr.write(`${line}\n`);
    throw new ExitStatus(2);
  }
}

/** The plan on stdout, or on stderr with --json (whose stdout carries only the final document). */
export function show(cli: Cli, lines: readonly string[]): void {
  const sink = cli.out.json ? cli.io.stderr : cli.io.stdout;
  for (const line of lines) sink.write(`${line}\n`);
}

const samePlan = (a: PlanView, b: PlanView) => a.from === b.from && JSON.stringify([a.components, a.config]) === JSON.stringify([b.components, b.config]);

/** `--component web=B… --component worker=B…` → { web: 'B…', worker: 'B…' }. */
export function parseComponentBuilds(args: readonly string[]): Record<string, string> {
  const moves: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = arg.slice(0, eq).trim();
    const build = arg.slice(eq + 1).trim();
    if (eq <= 0 || !name || !build) {
      throw new RewindError(
        'INVALID_COMPONENT_MOVE',
        `--component "${arg}" is not NAME=BUILD; e.g. --component web=BABCDEFGHIJ (see "rewind builds --component web")`,
      );
    }
    if (name in moves && moves[name] !== build)
      throw new RewindError('INVALID_COMPONENT_MOVE', `--component ${name} is given twice (${moves[name]}, ${build}); give one build per component`);
    moves[name] = build;
  }
  return moves;
}

/** `--components web,api` → ['web', 'api']. */
export function parseNames(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new RewindError('INVALID_COMPONENT_LIST', `--components "${value}" names no component; e.g. --components web,api`);
  return names;
}

/** Commander's collector for a repeatable option. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
