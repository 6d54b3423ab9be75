/** A Heroku-style `Procfile` read as a Rewind manifest: `name: command` per line; `web` serves HTTP. */
import { COMPONENT_NAME, Issues, NAME_RULE, component, defaultHealth, describeText } from './manifest-yaml.js';
import type { ComponentSpec, Manifest } from './manifest-types.js';

/** Parses a Heroku-style `Procfile`: `name: command` per line; `web` serves HTTP. */
export function parseProcfile(text: string, file = 'Procfile'): Manifest {
  return readProcfile(text, file).manifest;
}

/**
 * Reads a `Procfile`, with the notes for the build log. Its `release:` line is Heroku's
 * release-phase command, not a process: it is reported and never started (not run yet either).
 */
export function readProcfile(text: string, file = 'Procfile'): { manifest: Manifest; notes: string[] } {
  const issues = new Issues(file, null);
  const notes: string[] = [];
  const components: Record<string, ComponentSpec> = {};
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^([^:\s]+)\s*:(.*)$/.exec(trimmed);
    if (!m) {
      issues.addAt(line, '', `expected "name: command", got ${describeText(trimmed)}`);
      return;
    }
    const name = m[1]!;
    const command = m[2]!.trim();
    if (!COMPONENT_NAME.test(name)) issues.addAt(line, name, `is not a valid process name: ${NAME_RULE}`);
    else if (seen.has(name)) issues.addAt(line, name, 'is declared twice');
    else if (command === '') issues.addAt(line, name, 'needs a command after "name:"');
    else if (name === 'release') notes.push(`release: ${command} (a release-phase command: not yet supported, not started)`);
    else components[name] = component({ name, command, port: name === 'web', health: defaultHealth(), scale: 1 });
    if (COMPONENT_NAME.test(name) && command !== '') seen.add(name);
  });
  if (Object.keys(components).length === 0 && issues.count === 0) {
    issues.addAt(1, '', 'the Procfile declares no processes; add a line like "web: node server.js"');
  }
  issues.throwIfAny();
  return { manifest: Object.freeze({ components: Object.freeze(components) }), notes };
}
