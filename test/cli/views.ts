import type { ReleaseView } from '../../src/contract/index.js';

/** A release as the API shows it, for the CLI's tests: a build of myapp's web in production, made at `createdAt`. */
export function releaseView(id: string, createdAt: string, over: Partial<ReleaseView> = {}): ReleaseView {
  return {
    id,
    app: 'myapp',
    env: 'production',
    build: 'BABCDEFGHI',
    builds: { web: 'BABCDEFGHI' },
    kind: 'build',
    description: '',
    status: '',
    config: {},
    manifest: null,
    source: null,
    createdBy: 'ann@laptop',
    createdAt,
    ...over,
  };
}
