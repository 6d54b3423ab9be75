import { describe, expect, it } from 'vitest';
import { appInfo, appsTable } from '../../src/cli/apps.js';
import { buildsTable } from '../../src/cli/builds.js';
import { bytes, configLines, duration, eventLine, keyValues, relativeTime, table, timestamp } from '../../src/cli/format.js';
import { psTable } from '../../src/cli/ps.js';
import { releasesTable } from '../../src/cli/releases.js';
import type { AppView, BuildView, ProcessView, ReleaseView } from '../../src/contract/index.js';
import { releaseView } from './views.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

const release = (id: string, over: Partial<ReleaseView> = {}): ReleaseView => releaseView(id, ago(M), over);

describe('table', () => {
  it('pads every column but the last to its widest cell, two spaces apart, trimming the end', () => {
    expect(
      table(
        ['ID', 'STATUS', 'X'],
        [
          ['A', '', ''],
          ['LONGER', 'ok', 'z'],
        ],
      ),
    ).toEqual(['ID      STATUS  X', 'A', 'LONGER  ok      z']);
  });

  it('keeps cells on one line', () => {
    expect(table(['A', 'B'], [['x\ny', 'z']])).toEqual(['A    B', 'x y  z']);
  });
});

describe('releasesTable', () => {
  it('prints exactly the Convox table', () => {
    const lines = releasesTable(
      [
        release('RCDEFGHIJK', { status: 'active', description: 'env add:FOO', createdAt: ago(61 * S) }),
        release('RBCDEFGHIJ', { description: 'build 0a1b2c3d4e5f my commit message', createdAt: ago(5 * M + 3 * S) }),
      ],
      NOW,
    );
    expect(lines).toEqual([
      'ID          STATUS  BUILD       CREATED        DESCRIPTION',
      'RCDEFGHIJK  active  BABCDEFGHI  1 minute ago   env add:FOO',
      'RBCDEFGHIJ          BABCDEFGHI  5 minutes ago  build 0a1b2c3d4e5f my commit message',
    ]);
  });

  it('widens CREATED for "10 minutes ago"', () => {
    const lines = releasesTable(
      [
        release('RZYXWVUTSR', { status: 'active', description: 'build 0a1b2c3d4e5f my commit message', createdAt: ago(M) }),
        release('RCDEFGHIJK', { description: 'env add:FOO', createdAt: ago(5 * M) }),
        release('RBCDEFGHIJ', { description: 'build 0a1b2c3d4e5f my commit message', createdAt: ago(10 * M) }),
      ],
      NOW,
    );
    expect(lines).toEqual([
      'ID          STATUS  BUILD       CREATED         DESCRIPTION',
      'RZYXWVUTSR  active  BABCDEFGHI  1 minute ago    build 0a1b2c3d4e5f my commit message',
      'RCDEFGHIJK          BABCDEFGHI  5 minutes ago   env add:FOO',
      'RBCDEFGHIJ          BABCDEFGHI  10 minutes ago  build 0a1b2c3d4e5f my commit message',
    ]);
  });

  it('prints only the header when there are no releases', () => {
    expect(releasesTable([], NOW)).toEqual(['ID  STATUS  BUILD  CREATED  DESCRIPTION']);
  });
});

describe('relativeTime', () => {
  it.each([
    [0, 'now'],
    [999, 'now'],
    [S, '1 second ago'],
    [42 * S, '42 seconds ago'],
    [M, '1 minute ago'],
    [61 * S, '1 minute ago'],
    [119 * S, '1 minute ago'],
    [5 * M, '5 minutes ago'],
    [59 * M, '59 minutes ago'],
    [H, '1 hour ago'],
    [2 * H, '2 hours ago'],
    [D, '1 day ago'],
    [3 * D, '3 days ago'],
    [7 * D, '1 week ago'],
    [15 * D, '2 weeks ago'],
    [30 * D, '1 month ago'],
    [65 * D, '2 months ago'],
    [400 * D, '1 year ago'],
    [800 * D, '2 years ago'],
  ])('%i ms → %s', (ms, text) => {
    expect(relativeTime(ago(ms), NOW)).toBe(text);
  });

  it('reads a time slightly in the future as now', () => {
    expect(relativeTime(new Date(NOW + 3000).toISOString(), NOW)).toBe('now');
  });
});

describe('small formatters', () => {
  it('timestamp drops milliseconds like Convox event lines', () => {
    expect(timestamp('2019-01-01T00:00:49.123Z')).toBe('2019-01-01T00:00:49Z');
    expect(eventLine('2019-01-01T00:00:51.000Z', 'web: started 1 instance')).toBe('2019-01-01T00:00:51Z web: started 1 instance');
  });

  it('bytes and durations', () => {
    expect([bytes(512), bytes(1536), bytes(12 * 1024 * 1024)]).toEqual(['512 B', '1.5 KB', '12.0 MB']);
    expect([duration(850), duration(42 * S), duration(65 * S), duration(2 * H + 3 * M)]).toEqual(['850ms', '42s', '1m5s', '2h3m']);
  });

  it('config lines are sorted KEY=VALUE', () => {
    expect(configLines({ ZED: '1', ALPHA: 'a=b' })).toEqual(['ALPHA=a=b', 'ZED=1']);
  });

  it('keyValues aligns values and continues multi-line ones', () => {
    expect(
      keyValues([
        ['Id', 'R1'],
        ['Description', 'x'],
        ['Env', 'A=1\nB=2'],
        ['Empty', ''],
      ]),
    ).toEqual(['Id           R1', 'Description  x', 'Env          A=1', '             B=2', 'Empty']);
  });
});

describe('other tables', () => {
  it('builds', () => {
    const b: BuildView = {
      id: 'BABCDEFGHI',
      app: 'myapp',
      status: 'succeeded',
      description: 'build 0a1b2c3d4e5f fix',
      components: ['web'],
      sourceSha256: 's',
      artifactSha256: 'a',
      artifacts: { web: 'a' },
      release: 'RABCDEFGHI',
      env: 'production',
      error: null,
      deployment: null,
      deployError: null,
      createdBy: 'ann@laptop',
      createdAt: ago(2 * H),
      finishedAt: ago(2 * H - 30 * S),
    };
    expect(buildsTable([b, { ...b, id: 'BBBBBBBBBB', status: 'failed', release: null, description: 'oops' }], NOW)).toEqual([
      'ID          STATUS     RELEASE     CREATED      DESCRIPTION',
      'BABCDEFGHI  succeeded  RABCDEFGHI  2 hours ago  build 0a1b2c3d4e5f fix',
      'BBBBBBBBBB  failed                 2 hours ago  oops',
    ]);
  });

  it('ps', () => {
    const p: ProcessView = {
      id: 'web.1',
      component: 'web',
      release: 'RABCDEFGHI',
      build: 'BABCDEFGHI',
      pid: 4242,
      port: 41000,
      state: 'healthy',
      startedAt: ago(3 * D),
      restarts: 0,
      rss: 50 * 1024 * 1024,
      standbyUntil: null,
      node: null,
    };
    expect(psTable([p, { ...p, id: 'worker.1', component: 'worker', pid: null, port: null, rss: null, state: 'crashed' }], NOW)).toEqual([
      'ID        COMPONENT  RELEASE     STATUS   PID   PORT   STARTED     MEM',
      'web.1     web        RABCDEFGHI  healthy  4242  41000  3 days ago  50.0 MB',
      'worker.1  worker     RABCDEFGHI  crashed               3 days ago',
    ]);
    // On a target of several hosts, where each task runs.
    const task = { ...p, id: 'x1y2z3', pid: null, port: 30001, rss: null, node: 'node-b' };
    expect(psTable([task], NOW)).toEqual([
      'ID      COMPONENT  RELEASE     STATUS   NODE    PID  PORT   STARTED     MEM',
      'x1y2z3  web        RABCDEFGHI  healthy  node-b       30001  3 days ago',
    ]);
  });

  it('apps and apps info', () => {
    const app: AppView = {
      name: 'myapp',
      createdAt: ago(3 * D),
      environments: [
        {
          app: 'myapp',
          name: 'production',
          position: 1,
          activeRelease: 'RABCDEFGHI',
          proxyPort: 7101,
          url: 'http://127.0.0.1:7101',
          health: 'healthy',
          components: {},
          target: 'local',
          createdAt: ago(D),
        },
        {
          app: 'myapp',
          name: 'staging',
          position: 0,
          activeRelease: null,
          proxyPort: 7102,
          url: 'http://127.0.0.1:7102',
          health: 'empty',
          components: {},
          target: 'local',
          createdAt: ago(D),
        },
      ],
    };
    expect(appsTable([app, { name: 'other', createdAt: ago(D), environments: [] }], 'production')).toEqual([
      'NAME   ENVIRONMENTS        RELEASE     HEALTH   URL',
      'myapp  staging,production  RABCDEFGHI  healthy  http://127.0.0.1:7101',
      'other',
    ]);
    expect(appInfo(app, NOW)).toEqual([
      'Name          myapp',
      'Environments  staging, production',
      'Created       3 days ago',
      'staging',
      '  Release',
      '  URL         http://127.0.0.1:7102',
      '  Health      empty',
      'production',
      '  Release     RABCDEFGHI',
      '  URL         http://127.0.0.1:7101',
      '  Health      healthy',
    ]);
  });
});
