/** A pipeline run's log: lines appended in order per run (they may come from several sources at once) and published live. */
import type { Logger } from 'pino';
import type { PipelineLog } from '../domain/pipeline-run.js';
import type { Store } from '../store/store.js';
import type { EventHub } from './event-hub.js';

export class RunLog {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly hub: EventHub<PipelineLog>,
    private readonly log: Logger,
  ) {}

  /** Appends a line to run `id`'s log section; never rejects (a failure is logged). */
  append(id: string, section: 'run' | 'rollback', task: number | null, message: string): Promise<void> {
    const at = new Date().toISOString();
    const next = (this.chains.get(id) ?? Promise.resolve()).then(async () => {
      const entry = await this.store.pipelines.appendLog(id, section, task, message, at);
      this.hub.publish(id, entry);
    });
    const settled = next.catch((err) => this.log.error({ err, run: id }, 'cannot append to a pipeline log'));
    this.chains.set(id, settled);
    void settled.finally(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return settled;
  }
}
