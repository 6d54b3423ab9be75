import type { AuditEntry } from '../domain/audit.js';
import type { DeploymentEvent } from '../domain/deployment.js';
import type { EnvPlan } from '../domain/env-plan.js';
import type { AppSummary, EnvironmentSummary, ProcessInfo } from '../domain/environment.js';
import type { PipelineLog, PipelineRunDetail, PipelineStory, PipelineTask, RunRollbackPlan, RunRollbackTask } from '../domain/pipeline-run.js';
import type { ComponentStep, ConfigStep, EnvBasis, PlanBasis as DomainPlanBasis } from '../domain/plan.js';
import type { AppView } from './apps.js';
import type { AuditEntryView } from './audit.js';
import type { Assert, SameShape } from './common.js';
import type { DeploymentEventView } from './deployments.js';
import type { EnvironmentView } from './environments.js';
import type { PipelineLogView, PipelineRunView, PipelineTaskView, RunRollbackPlanView, RunRollbackTaskView, StoryView } from './pipelines.js';
import type { ComponentStepView, ConfigStepView, EnvBasisView, PlanBasis, PlanView } from './plans.js';
import type { ProcessView } from './processes.js';

/**
 * The views that are exactly domain values, checked against the domain types at compile time
 * (by the server's tsconfig), so the schema and the interface cannot drift apart. Kept out of
 * the contract's index: the console type-checks the contract without the domain's node-only
 * modules. Views that differ from their domain value (builds, releases, deployments, template
 * versions, upgrades) are mapped in src/api/views.ts and the routes.
 */
export type DomainChecks = [
  Assert<SameShape<AppView, AppSummary>>,
  Assert<SameShape<EnvironmentView, EnvironmentSummary>>,
  Assert<SameShape<ProcessView, ProcessInfo>>,
  Assert<SameShape<AuditEntryView, AuditEntry>>,
  Assert<SameShape<DeploymentEventView, DeploymentEvent>>,
  Assert<SameShape<ComponentStepView, ComponentStep>>,
  Assert<SameShape<ConfigStepView, ConfigStep>>,
  Assert<SameShape<EnvBasisView, EnvBasis>>,
  Assert<SameShape<PlanBasis, DomainPlanBasis>>,
  Assert<SameShape<PlanView, EnvPlan>>,
  Assert<SameShape<PipelineTaskView, PipelineTask>>,
  Assert<SameShape<PipelineLogView, PipelineLog>>,
  Assert<SameShape<PipelineRunView, PipelineRunDetail>>,
  Assert<SameShape<RunRollbackTaskView, RunRollbackTask>>,
  Assert<SameShape<RunRollbackPlanView, RunRollbackPlan>>,
  Assert<SameShape<StoryView, PipelineStory>>,
];
