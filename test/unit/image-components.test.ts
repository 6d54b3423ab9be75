import { describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import { parseImageRef } from '../../src/domain/image-ref.js';
import { parseManifest } from '../../src/domain/manifest.js';

const yml = (...lines: string[]) => `${lines.join('\n')}\n`;
const messageOf = (text: string) => {
  try {
    parseManifest(text);
  } catch (e) {
    expect(e).toBeInstanceOf(RewindError);
    return (e as RewindError).message;
  }
  throw new Error('expected a RewindError');
};

describe('image components in rewind.yml', () => {
  it('reads an image component with port and health, and no command', () => {
    const m = parseManifest(yml('components:', '  web:', "    image: 'rewind-test/web:1.12'", '    port: 80', '    health: /health'));
    expect(m.components.web).toMatchObject({ name: 'web', image: 'rewind-test/web:1.12', port: true, health: { path: '/health' }, scale: 1 });
    expect(m.components.web.command).toBeUndefined();
    expect(m.components.web.path).toBeUndefined();
  });

  it('refuses an image with a command, build, static or path, one line each with its line number', () => {
    expect(messageOf(yml('components:', '  web:', '    image: nginx:1.12', '    command: nginx'))).toBe(
      'rewind.yml:3: components.web has both image and command; an image component runs its image and has no command',
    );
    expect(messageOf(yml('components:', '  web:', '    build: make', '    static: public', '    image: nginx:1.12'))).toBe(
      'rewind.yml:5: components.web has both image and build, static; an image component runs its image and has no build, static',
    );
  });

  it('refuses an empty or malformed reference', () => {
    expect(messageOf(yml('components:', '  web:', "    image: ''"))).toBe('rewind.yml:3: components.web.image must not be empty');
    expect(messageOf(yml('components:', '  web:', '    image: Nginx:1.12'))).toMatch(
      /^rewind\.yml:3: components\.web\.image must be an image reference like rewind-test\/web:1\.12 .*got "Nginx:1\.12"$/,
    );
    expect(messageOf(yml('components:', '  web:', '    image: "web:1.12 --privileged"'))).toMatch(/^rewind\.yml:3: components\.web\.image must be/);
    expect(messageOf(yml('components:', '  web:', '    image: [a]'))).toMatch(/^rewind\.yml:3: components\.web\.image must be text/);
  });

  it('parses references as Docker does', () => {
    expect(parseImageRef('rewind-test/web:1.12')).toEqual({ repository: 'rewind-test/web' });
    expect(parseImageRef('nginx')).toEqual({ repository: 'nginx' });
    expect(parseImageRef('127.0.0.1:5000/rewind-test/web:1.12')).toEqual({ registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/rewind-test/web' });
    expect(parseImageRef('localhost/web')).toEqual({ registry: 'localhost', repository: 'localhost/web' });
    expect(parseImageRef(`registry.example/web@sha256:${'a'.repeat(64)}`)).toEqual({ registry: 'registry.example', repository: 'registry.example/web' });
    expect(parseImageRef(`sha256:${'b'.repeat(64)}`)).toEqual({ repository: `sha256:${'b'.repeat(64)}` });
    for (const bad of ['', 'Web', 'web:', 'web:-x', '/web', 'web//x', 'web@sha256:abc', 'a b', '-web', 'x'.repeat(300)]) expect(parseImageRef(bad)).toBeNull();
  });
});

describe("an image component's build entry in the desired state", () => {
  it('carries the pinned image, and a slug its file', async () => {
    const { componentArtifact } = await import('../../src/engine/desired-state.js');
    const digest = 'c'.repeat(64);
    expect(componentArtifact(`image:127.0.0.1:5000/web@sha256:${digest}`, () => '/never')).toEqual({
      sha256: digest,
      path: '',
      image: `127.0.0.1:5000/web@sha256:${digest}`,
    });
    expect(componentArtifact(`image:sha256:${digest}`, () => '/never')).toEqual({ sha256: digest, path: '', image: `sha256:${digest}` });
    expect(componentArtifact(digest, (sha) => `/slugs/${sha}`)).toEqual({ sha256: digest, path: `/slugs/${digest}` });
  });
});
