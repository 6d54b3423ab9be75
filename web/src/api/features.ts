import { get } from './client';

/** What this server offers, read from its OpenAPI document, so the console hides what an older server lacks. */
export interface Features {
  /** POST /rollback accepts dryRun (a plan before anything happens). */
  readonly rollbackDryRun: boolean;
  /** POST /rollback accepts components (component rollback). */
  readonly componentRollback: boolean;
  readonly diff: boolean;
  readonly promoteEnv: boolean;
  readonly promoteEnvDryRun: boolean;
  readonly revert: boolean;
  readonly pipelines: boolean;
  /** App templates: an environment's upgrades, Upgrade and its one-click rollback. */
  readonly templates: boolean;
}

export const NO_FEATURES: Features = {
  rollbackDryRun: false,
  componentRollback: false,
  diff: false,
  promoteEnv: false,
  promoteEnvDryRun: false,
  revert: false,
  pipelines: false,
  templates: false,
};

interface OpenApi {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }>>;
}

const bodyProps = (doc: OpenApi, path: string, method = 'post'): string[] | null => {
  const op = doc.paths?.[path]?.[method];
  if (!op) return null;
  return Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {});
};

export async function loadFeatures(): Promise<Features> {
  const doc = await get<OpenApi>('/api/openapi.json');
  const rollback = bodyProps(doc, '/api/apps/{app}/rollback') ?? [];
  const promote = bodyProps(doc, '/api/apps/{app}/promote');
  return {
    rollbackDryRun: rollback.includes('dryRun'),
    componentRollback: rollback.includes('components'),
    diff: Boolean(doc.paths?.['/api/apps/{app}/diff']?.get),
    promoteEnv: promote !== null,
    promoteEnvDryRun: promote?.includes('dryRun') ?? false,
    revert: bodyProps(doc, '/api/apps/{app}/releases/{id}/revert') !== null,
    pipelines: Object.keys(doc.paths ?? {}).some((p) => p.includes('/pipelines')),
    templates: Boolean(doc.paths?.['/api/apps/{app}/upgrades']?.get),
  };
}
