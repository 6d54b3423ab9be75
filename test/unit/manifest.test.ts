import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import type { DesiredComponent, HealthSpec } from '../../src/protocol/agent-protocol.js';
import { buildCommandArgv, manifestFromFiles, parseManifest, parseProcfile, readManifestFiles } from '../../src/domain/manifest.js';
import { environmentNote, parseConvoxManifest } from '../../src/domain/convox-manifest.js';
import type { ComponentSpec, ManifestIssue } from '../../src/domain/manifest.js';

/** Joins lines so that line numbers in the fixtures are easy to count. */
const yml = (...lines: string[]) => `${lines.join('\n')}\n`;

function errorOf(fn: () => unknown): RewindError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RewindError);
    return e as RewindError;
  }
  throw new Error('expected a RewindError');
}

const issuesOf = (text: string) => (errorOf(() => parseManifest(text)).details as { errors: ManifestIssue[] }).errors;
const messageOf = (text: string) => errorOf(() => parseManifest(text)).message;

describe('parseManifest: valid manifests and defaults', () => {
  it('normalizes the documented example', () => {
    const m = parseManifest(
      yml(
        'components:',
        '  web:',
        '    build: npm ci --omit=dev',
        '    command: node server.js',
        '    port: true',
        '    health:',
        '      path: /healthz',
        '      timeout: 30',
        '      interval: 0.5',
        '    scale: 1',
        '  assets:',
        '    static: public',
      ),
    );
    expect(m).toEqual({
      components: {
        web: {
          name: 'web',
          build: 'npm ci --omit=dev',
          command: 'node server.js',
          port: true,
          health: { path: '/healthz', timeoutMs: 30_000, intervalMs: 500 },
          scale: 1,
        },
        assets: {
          name: 'assets',
          static: 'public',
          port: true,
          health: { timeoutMs: 30_000, intervalMs: 500 },
          scale: 1,
        },
      },
    });
    expect(Object.keys(m.components)).toEqual(['web', 'assets']);
  });

  it('a component folder: normalized, and refused when it escapes', () => {
    const m = parseManifest('components:\n  api:\n    path: ./services/api/\n    command: node api.js\n  web:\n    path: .\n    command: node web.js\n');
    expect(m.components.api.path).toBe('services/api');
    expect(m.components.web.path).toBeUndefined();
    expect(() => parseManifest('components:\n  api:\n    path: ../elsewhere\n    command: node api.js\n')).toThrow(
      'rewind.yml:3: components.api.path must be a folder inside the source (relative, without ..), got "../elsewhere"',
    );
  });

  it('defaults: web serves HTTP, others do not; scale 1; health 30 s / 0.5 s without a path', () => {
    const m = parseManifest(yml('components:', '  web:', '    command: node a.js', '  worker:', '    command: node w.js'));
    expect(m.components.web).toEqual({
      name: 'web',
      command: 'node a.js',
      port: true,
      health: { timeoutMs: 30_000, intervalMs: 500 },
      scale: 1,
    });
    expect(m.components.worker!.port).toBe(false);
    expect(m.components.web!.health).not.toHaveProperty('path');
    expect(m.components.web).not.toHaveProperty('build');
    expect(m.components.web).not.toHaveProperty('static');
  });

  it('accepts the health shorthand, custom timings, port overrides and scale up to 20', () => {
    const m = parseManifest(
      yml(
        'components:',
        '  web:',
        '    command: node a.js',
        '    health: /health',
        '  worker:',
        '    command: node w.js',
        '    port: false',
        '  api:',
        '    command: node api.js',
        '    port: true',
        '    scale: 20',
        '    health: { path: /up, timeout: 2, interval: 0.1 }',
      ),
    );
    expect(m.components.worker!.port).toBe(false);
    expect(m.components.web!.health).toEqual({ path: '/health', timeoutMs: 30_000, intervalMs: 500 });
    expect(m.components.api!.health).toEqual({ path: '/up', timeoutMs: 2000, intervalMs: 100 });
    expect(m.components.api!.scale).toBe(20);
  });

  it('rejects a health path on a component without a port', () => {
    expect(messageOf(yml('components:', '  web:', '    command: node a.js', '    health: /health', '    port: false'))).toBe(
      'rewind.yml:4: components.web.health has an HTTP path but the component has no port; set "port: true" or remove the path',
    );
  });

  it('normalizes static folders', () => {
    const m = parseManifest(yml('components:', '  a:', '    static: ./public/', '  b:', '    static: dist//site', '    build: make'));
    expect(m.components.a!.static).toBe('public');
    expect(m.components.b).toMatchObject({ static: 'dist/site', build: 'make' });
    expect(m.components.b).not.toHaveProperty('command');
  });

  it('returns a frozen value', () => {
    const m = parseManifest(yml('components:', '  web:', '    command: x'));
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.components)).toBe(true);
    expect(Object.isFrozen(m.components.web)).toBe(true);
    expect(Object.isFrozen(m.components.web!.health)).toBe(true);
  });

  it('accepts pipelines as an opaque, frozen value', () => {
    const m = parseManifest(yml('components:', '  web:', '    command: x', 'pipelines:', '  ship:', '    - test', '    - production'));
    expect(m.pipelines).toEqual({ ship: ['test', 'production'] });
    expect(Object.isFrozen(m.pipelines)).toBe(true);
    expect(parseManifest(yml('components:', '  web:', '    command: x'))).not.toHaveProperty('pipelines');
  });

  it('resolves YAML anchors and aliases', () => {
    const m = parseManifest(yml('components:', '  web: &w', '    command: node a.js', '  web2: *w'));
    expect(m.components.web2).toMatchObject({ name: 'web2', command: 'node a.js', port: false });
  });

  it('feeds the agent protocol types', () => {
    const spec: ComponentSpec = parseManifest(yml('components:', '  web:', '    command: x')).components.web!;
    const health: HealthSpec = spec.health;
    const desired: DesiredComponent = { ...spec, build: 'BABCDEFGHIJ', artifact: { sha256: 'a'.repeat(64), path: '/x' } };
    expect(desired.health).toBe(health);
  });
});

describe('parseManifest: errors', () => {
  it('reports an unknown key with the known ones', () => {
    expect(messageOf(yml('components:', '  web:', '    command: x', '    scal: 2'))).toBe(
      'rewind.yml:4: components.web.scal is not a known key (known: build, command, image, path, port, health, scale, static)',
    );
  });

  it('collects every error at once, ordered by line, with details', () => {
    const text = yml(
      'components:', //                1
      '  web:', //                      2
      '    command: node server.js', // 3
      '    scal: 2', //                 4
      '    health: /healthz', //        5
      '    scale: two', //              6
      '  worker:', //                   7
      '    port: 0', //                 8
    );
    const e = errorOf(() => parseManifest(text));
    expect(e.code).toBe('INVALID_MANIFEST');
    expect(e.status).toBe(422);
    expect(e.message).toBe(
      [
        'rewind.yml:4: components.web.scal is not a known key (known: build, command, image, path, port, health, scale, static)',
        'rewind.yml:6: components.web.scale must be a whole number from 1 to 20, got "two"',
        'rewind.yml:7: components.worker needs a command (or static: FOLDER, or image: IMAGE)',
        'rewind.yml:8: components.worker.port must be true, false or a port number from 1 to 65535 (the app listens on $PORT), got 0',
      ].join('; '),
    );
    expect(e.details).toEqual({
      file: 'rewind.yml',
      errors: [
        {
          line: 4,
          path: 'components.web.scal',
          message: 'components.web.scal is not a known key (known: build, command, image, path, port, health, scale, static)',
        },
        { line: 6, path: 'components.web.scale', message: 'components.web.scale must be a whole number from 1 to 20, got "two"' },
        { line: 7, path: 'components.worker', message: 'components.worker needs a command (or static: FOLDER, or image: IMAGE)' },
        {
          line: 8,
          path: 'components.worker.port',
          message: 'components.worker.port must be true, false or a port number from 1 to 65535 (the app listens on $PORT), got 0',
        },
      ],
    });
  });

  it('uses the file name it is given', () => {
    expect(errorOf(() => parseManifest(yml('components:', '  web: {}'), 'app/rewind.yml')).message).toBe(
      'app/rewind.yml:2: components.web needs a command (or static: FOLDER, or image: IMAGE)',
    );
  });

  it('needs a command or static', () => {
    expect(messageOf(yml('components:', '  web:', '    build: npm ci'))).toBe(
      'rewind.yml:2: components.web needs a command (or static: FOLDER, or image: IMAGE)',
    );
    expect(messageOf(yml('components:', '  web:'))).toBe('rewind.yml:2: components.web needs a command (or static: FOLDER, or image: IMAGE)');
  });

  it('refuses command together with static', () => {
    expect(messageOf(yml('components:', '  web:', '    static: public', '    command: node a.js'))).toBe(
      'rewind.yml:4: components.web has both command and static; a static component serves files and runs no command',
    );
  });

  it.each([
    ['0', '0'],
    ['21', '21'],
    ['1.5', '1.5'],
    ['two', '"two"'],
    ['"2"', '"2"'],
    ['[1]', 'a list'],
    ['', 'nothing'],
  ])('scale %s is refused', (value, got) => {
    expect(messageOf(yml('components:', '  web:', '    command: x', `    scale: ${value}`))).toBe(
      `rewind.yml:4: components.web.scale must be a whole number from 1 to 20, got ${got}`,
    );
  });

  it('refuses a component that is not a map', () => {
    expect(messageOf(yml('components:', '  web: node server.js'))).toBe(
      'rewind.yml:2: components.web must be a map of settings (like "command: node server.js"), got "node server.js"',
    );
  });

  it.each([
    ['command', '42', 'must be text, got 42'],
    ['command', '""', 'must not be empty'],
    ['build', '[npm, ci]', 'must be text, got a list'],
    ['build', '', 'must be text, got nothing'],
  ])('%s: %s is refused', (key, value, message) => {
    const lines = key === 'command' ? [`    command: ${value}`] : ['    command: x', `    ${key}: ${value}`];
    expect(messageOf(yml('components:', '  web:', ...lines))).toBe(`rewind.yml:${lines.length + 2}: components.web.${key} ${message}`);
  });

  it.each(['Web', '1web', 'web_1', 'a'.repeat(32), '-web'])('refuses the component name %s', (name) => {
    expect(messageOf(yml('components:', `  ${name}:`, '    command: x'))).toBe(
      `rewind.yml:2: components.${name} is not a valid component name: use lower-case letters, digits and -, starting with a letter, at most 31 characters`,
    );
  });

  it('accepts names up to 31 characters with digits and dashes', () => {
    const name = `a${'b1-'.repeat(10)}`;
    expect(parseManifest(yml('components:', `  ${name}:`, '    command: x')).components[name]!.name).toBe(name);
  });

  it.each(['/etc', '../up', 'public/../../x', 'C:/x', '\\\\server\\share'])('refuses the static folder %s', (dir) => {
    expect(messageOf(yml('components:', '  web:', `    static: '${dir}'`))).toBe(
      `rewind.yml:3: components.web.static must be a folder inside the source (relative, without ..), got ${JSON.stringify(dir)}`,
    );
  });

  it('checks every health setting', () => {
    const text = yml(
      'components:',
      '  web:',
      '    command: x',
      '    health:',
      '      path: healthz', //  5
      '      timeout: 0', //     6
      '      interval: fast', // 7
      '      retries: 3', //     8
    );
    expect(issuesOf(text).map((i) => `${i.line}: ${i.message}`)).toEqual([
      '5: components.web.health.path must be an HTTP path starting with "/" (like /health), got "healthz"',
      '6: components.web.health.timeout must be a number of seconds above 0 and at most 3600, got 0',
      '7: components.web.health.interval must be a number of seconds above 0 and at most 60, got "fast"',
      '8: components.web.health.retries is not a known key (known: path, timeout, interval)',
    ]);
  });

  it('refuses a health value that is neither a path nor a map', () => {
    expect(messageOf(yml('components:', '  web:', '    command: x', '    health: 30'))).toBe(
      'rewind.yml:4: components.web.health must be a path like /health or a map with path, timeout and interval, got 30',
    );
    expect(messageOf(yml('components:', '  web:', '    command: x', '    health: health'))).toBe(
      'rewind.yml:4: components.web.health must be an HTTP path starting with "/" (like /health), got "health"',
    );
  });

  it('refuses unknown top-level keys', () => {
    expect(messageOf(yml('services:', '  web: {}', 'components:', '  web:', '    command: x'))).toBe(
      'rewind.yml:1: services is not a known key (known: components, pipelines)',
    );
  });

  it('needs at least one component', () => {
    expect(messageOf('')).toBe('rewind.yml:1: the manifest is empty; declare at least one component under "components:" (see examples/hello)');
    expect(messageOf('# nothing yet\n')).toBe('rewind.yml:1: the manifest is empty; declare at least one component under "components:" (see examples/hello)');
    expect(messageOf(yml('components:'))).toBe('rewind.yml:1: components must declare at least one component');
    expect(messageOf(yml('components: {}'))).toBe('rewind.yml:1: components must declare at least one component');
    expect(messageOf(yml('pipelines: {}'))).toBe(
      'rewind.yml:1: components is missing; declare at least one component, e.g. "components: { web: { command: node server.js } }"',
    );
    expect(messageOf(yml('components:', '  - web'))).toBe('rewind.yml:2: components must be a map of component names to settings, got a list');
  });

  it('refuses a manifest that is not a map', () => {
    expect(messageOf(yml('- web'))).toBe('rewind.yml:1: the manifest must be a map with a "components:" key, got a list');
    expect(messageOf(yml('web'))).toBe('rewind.yml:1: the manifest must be a map with a "components:" key, got "web"');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(messageOf(yml('components:', '  web:', '    command: x', '    command: y'))).toBe('rewind.yml:4: invalid YAML: Map keys must be unique');
    expect(messageOf(yml('components:', '  web:', '    command: a: b'))).toBe(
      'rewind.yml:3: invalid YAML: Nested mappings are not allowed in compact mappings',
    );
    const e = errorOf(() => parseManifest(yml('components:', '  web:', '    command: x', '\tscale: 2')));
    expect(e.code).toBe('INVALID_MANIFEST');
    expect(e.message).toMatch(/^rewind\.yml:4: invalid YAML: /);
  });
});

describe('parseProcfile', () => {
  it('reads name: command lines; web serves HTTP', () => {
    const m = parseProcfile(['# processes', '', 'web: node server.js --port $PORT', 'worker:node worker.js', '  '].join('\n'));
    expect(m).toEqual({
      components: {
        web: { name: 'web', command: 'node server.js --port $PORT', port: true, health: { timeoutMs: 30_000, intervalMs: 500 }, scale: 1 },
        worker: { name: 'worker', command: 'node worker.js', port: false, health: { timeoutMs: 30_000, intervalMs: 500 }, scale: 1 },
      },
    });
    expect(Object.isFrozen(m.components.web)).toBe(true);
  });

  it('keeps colons inside the command and accepts CRLF', () => {
    expect(parseProcfile('web: node -e "console.log(1)" a:b\r\n').components.web!.command).toBe('node -e "console.log(1)" a:b');
  });

  it('collects every error with its line', () => {
    const e = errorOf(() => parseProcfile(['web: node a.js', 'Worker: y', 'just text', 'web: z', 'clock:'].join('\n')));
    expect(e.code).toBe('INVALID_MANIFEST');
    expect(e.message).toBe(
      [
        'Procfile:2: Worker is not a valid process name: use lower-case letters, digits and -, starting with a letter, at most 31 characters',
        'Procfile:3: expected "name: command", got "just text"',
        'Procfile:4: web is declared twice',
        'Procfile:5: clock needs a command after "name:"',
      ].join('; '),
    );
  });

  it('refuses an empty Procfile', () => {
    expect(errorOf(() => parseProcfile('# nothing\n')).message).toBe('Procfile:1: the Procfile declares no processes; add a line like "web: node server.js"');
  });
});

describe('manifestFromFiles', () => {
  it('prefers rewind.yml over the Procfile', () => {
    const m = manifestFromFiles({ 'rewind.yml': yml('components:', '  api:', '    command: a'), Procfile: 'web: b' });
    expect(Object.keys(m.components)).toEqual(['api']);
  });

  it('falls back to the Procfile', () => {
    expect(manifestFromFiles({ Procfile: 'web: b' }).components.web!.command).toBe('b');
  });

  it('reports a broken rewind.yml even when a Procfile exists', () => {
    expect(errorOf(() => manifestFromFiles({ 'rewind.yml': '', Procfile: 'web: b' })).code).toBe('INVALID_MANIFEST');
  });

  it('says what to do when there is no manifest', () => {
    const e = errorOf(() => manifestFromFiles({}));
    expect(e.code).toBe('NO_MANIFEST');
    expect(e.message).toBe('no rewind.yml, convox.yml or Procfile at the root of the source; add a rewind.yml (see examples/hello)');
  });
});

describe('port: a number, as Convox writes it (issue 10, item 13)', () => {
  it('serves HTTP on $PORT and says the number is informational', () => {
    const r = readManifestFiles({
      'rewind.yml': yml('components:', '  web:', '    command: node server.js', '    port: 3000', '  api:', '    command: node api.js', '    port: 8080'),
    });
    expect(r.manifest.components.web!.port).toBe(true);
    expect(r.manifest.components.api!.port).toBe(true);
    expect(r.notes).toEqual(['web: port 3000 in the manifest; Rewind gives it $PORT', 'api: port 8080 in the manifest; Rewind gives it $PORT']);
  });

  it('refuses a number that is no port', () => {
    expect(messageOf(yml('components:', '  web:', '    command: x', '    port: 70000'))).toBe(
      'rewind.yml:4: components.web.port must be true, false or a port number from 1 to 65535 (the app listens on $PORT), got 70000',
    );
    expect(messageOf(yml('components:', '  web:', '    command: x', '    port: 3000.5'))).toMatch(/port must be true, false or a port number/);
    expect(messageOf(yml('components:', '  web:', '    command: x', '    port: "3000"'))).toBe(
      'rewind.yml:4: components.web.port must be true, false or a port number from 1 to 65535 (the app listens on $PORT), got "3000"',
    );
  });
});

describe('Procfile release: line (issue 10, item 15)', () => {
  it('is the release-phase command: reported, never a component', () => {
    const r = readManifestFiles({ Procfile: 'release: node migrate.js\nweb: node server.js\n' });
    expect(Object.keys(r.manifest.components)).toEqual(['web']);
    expect(r.notes).toEqual(['release: node migrate.js (a release-phase command: not yet supported, not started)']);
    expect(Object.keys(parseProcfile('web: a\nrelease: b\n').components)).toEqual(['web']);
  });

  it('a second release line is declared twice', () => {
    expect(errorOf(() => parseProcfile('web: a\nrelease: b\nrelease: c\n')).message).toBe('Procfile:3: release is declared twice');
  });

  it('a Procfile with only a release line declares no processes', () => {
    expect(errorOf(() => parseProcfile('release: node migrate.js\n')).message).toBe(
      'Procfile:1: the Procfile declares no processes; add a line like "web: node server.js"',
    );
  });
});

describe('convox.yml (issue 10, item 14)', () => {
  const convox = yml(
    'environment:', //                    1
    '  - COMPANY=Convox', //               2
    '  - DOCS_URL', //                     3
    'resources:', //                       4
    '  database:', //                      5
    '    type: postgres', //               6
    'services:', //                        7
    '  web:', //                           8
    '    build: .', //                     9
    '    command: node server.js', //      10
    '    port: 3000', //                   11
    '    health:', //                      12
    '      path: /health', //              13
    '      interval: 1', //                14
    '      grace: 50', //                  15
    '      timeout: 3', //                 16
    '    scale:', //                       17
    '      count: 2', //                   18
    '      memory: 512', //                19
    '    environment:', //                 20
    '      - SESSION_SECRET', //           21
    '    internal: true', //               22
    '  worker:', //                        23
    '    build:', //                       24
    '      path: ./worker', //             25
    '      manifest: Dockerfile.worker', //26
    '    command: node worker.js', //      27
    '    scale: 1', //                     28
    '    internal: true', //               29
    '    resources:', //                   30
    '      - database', //                 31
    '  metrics:', //                       32
    '    image: awesome/metrics', //       33
    'timers:', //                          34
    '  cleanup:', //                       35
    '    schedule: "0 3 * * *"', //        36
  );

  it('maps services to components: build path, command, port, health, scale', () => {
    const r = parseConvoxManifest(convox);
    expect(r.manifest).toEqual({
      components: {
        web: { name: 'web', command: 'node server.js', port: true, health: { path: '/health', timeoutMs: 53_000, intervalMs: 1000 }, scale: 2 },
        worker: { name: 'worker', command: 'node worker.js', path: 'worker', port: false, health: { timeoutMs: 30_000, intervalMs: 500 }, scale: 1 },
      },
    });
    expect(Object.isFrozen(r.manifest.components.web)).toBe(true);
  });

  it('says what it read differently and names each key it did not understand once', () => {
    const r = parseConvoxManifest(convox);
    expect(r.notes).toEqual([
      'web: port 3000 in the manifest; Rewind gives it $PORT',
      'worker: build.manifest Dockerfile.worker is not used: Rewind builds no image, it runs the command on the files of build.path',
      'metrics: image awesome/metrics is not supported yet (Rewind runs commands from the source, not images); not deployed',
      'not understood, ignored: resources, timers; in services: scale.memory (web), internal (web, worker), resources (worker)',
    ]);
    expect(r.variables).toEqual([{ key: 'COMPANY', value: 'Convox' }, { key: 'DOCS_URL' }, { key: 'SESSION_SECRET' }]);
  });

  it('accepts the short forms: health as a path, scale as a count, port as "https:N"', () => {
    const r = parseConvoxManifest(yml('services:', '  web:', '    command: bin/web', '    port: https:3000', '    health: /check', '    scale: 3'));
    expect(r.manifest.components.web).toEqual({
      name: 'web',
      command: 'bin/web',
      port: true,
      health: { path: '/check', timeoutMs: 30_000, intervalMs: 500 },
      scale: 3,
    });
    expect(r.notes).toEqual(['web: port 3000 in the manifest; Rewind gives it $PORT']);
  });

  it('collects every error with its line', () => {
    const e = errorOf(() =>
      parseConvoxManifest(
        yml(
          'services:', //                 1
          '  web:', //                    2
          '    build: ../up', //          3
          '    port: lots', //            4
          '  Bad:', //                    5
          '    command: x', //            6
          '  worker:', //                 7
          '    scale: 0', //              8
          '    health: /h', //            9
          'environment: FOO', //          10
        ),
      ),
    );
    expect(e.code).toBe('INVALID_MANIFEST');
    expect(e.message).toBe(
      [
        'convox.yml:2: services.web needs a command (Rewind builds no image from a Dockerfile: write the command its CMD runs)',
        'convox.yml:3: services.web.build must be a folder inside the source (relative, without ..), got "../up"',
        'convox.yml:4: services.web.port must be a port number like 3000, got "lots"',
        'convox.yml:5: services.Bad is not a valid service name: use lower-case letters, digits and -, starting with a letter, at most 31 characters',
        'convox.yml:7: services.worker needs a command (Rewind builds no image from a Dockerfile: write the command its CMD runs)',
        'convox.yml:8: services.worker.scale must be a whole number from 1 to 20, got 0',
        'convox.yml:9: services.worker.health has an HTTP path but the service has no port; add "port: 3000" or remove the path',
        'convox.yml:10: environment must be a list of KEY or KEY=default, got "FOO"',
      ].join('; '),
    );
  });

  it('refuses a manifest without services, and one with only images', () => {
    expect(errorOf(() => parseConvoxManifest(yml('environment:', '  - A'))).message).toBe(
      'convox.yml:1: services is missing; declare at least one service with a command, e.g. "services: { web: { command: node server.js, port: 3000 } }"',
    );
    expect(errorOf(() => parseConvoxManifest(yml('services:', '  redis:', '    image: redis'))).message).toBe(
      'convox.yml:1: declares no service Rewind can run (images are not supported yet); add a service with a command',
    );
  });

  it('environment: convox.yml defaults are not applied; the note says what to set', () => {
    const vars = [{ key: 'COMPANY', value: 'Convox' }, { key: 'DOCS_URL' }, { key: 'SECRET' }];
    expect(environmentNote(vars, { SECRET: 'x' }, 'production')).toEqual([
      'environment: SECRET set in production',
      'environment: COMPANY, DOCS_URL not set in production (convox.yml defaults are not applied): rewind env set COMPANY=Convox DOCS_URL=…',
    ]);
    expect(environmentNote([], {}, 'production')).toEqual([]);
  });
});

describe('which manifest is read (rewind.yml, then convox.yml, then Procfile)', () => {
  const convox = yml('services:', '  web:', '    command: node c.js', '    port: 3000');
  it('reads convox.yml when there is no rewind.yml', () => {
    const r = readManifestFiles({ 'convox.yml': convox, Procfile: 'web: node p.js' });
    expect(r.file).toBe('convox.yml');
    expect(r.manifest.components.web!.command).toBe('node c.js');
    expect(r.notes).toEqual(['Procfile not read: convox.yml comes first', 'web: port 3000 in the manifest; Rewind gives it $PORT']);
    expect(manifestFromFiles({ 'convox.yml': convox }).components.web!.command).toBe('node c.js');
  });

  it('rewind.yml comes first', () => {
    const r = readManifestFiles({ 'rewind.yml': yml('components:', '  api:', '    command: a'), 'convox.yml': convox, Procfile: 'web: b' });
    expect(r.file).toBe('rewind.yml');
    expect(r.notes).toEqual(['convox.yml, Procfile not read: rewind.yml comes first']);
  });
});

describe('examples/hello', () => {
  it('has a valid manifest', () => {
    const m = parseManifest(readFileSync(new URL('../../examples/hello/rewind.yml', import.meta.url), 'utf8'));
    expect(m.components).toEqual({
      web: {
        name: 'web',
        build: `node -e "require('fs').writeFileSync('BUILD_INFO', new Date().toISOString())"`,
        command: 'node server.js',
        port: true,
        health: { path: '/health', timeoutMs: 30_000, intervalMs: 500 },
        scale: 1,
      },
    });
  });
});

describe('buildCommandArgv', () => {
  it('runs the command line through /bin/sh -c as one argument', () => {
    expect(buildCommandArgv('node server.js && echo "$PORT"')).toEqual(['/bin/sh', '-c', 'node server.js && echo "$PORT"']);
  });
});
