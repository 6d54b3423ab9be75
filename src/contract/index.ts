/** The wire contract: request and response schemas of every resource, and their TS types. */
export * from './common.js';
export * from './plans.js';
export * from './environments.js';
export * from './apps.js';
export * from './builds.js';
export * from './deployments.js';
export * from './releases.js';
export * from './processes.js';
export * from './audit.js';
export * from './pipelines.js';
export * from './templates.js';
export * from './auth.js';
export * from './targets.js';
