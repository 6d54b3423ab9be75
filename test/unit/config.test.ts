import { describe, expect, it } from 'vitest';
import { applyConfigChange, describeConfigDiff, diffConfig, maskValue, parseAssignments } from '../../src/domain/config.js';
import { RewindError } from '../../src/domain/errors.js';

describe('config changes', () => {
  it('describes a change like Convox: env add:… change:… remove:…', () => {
    const from = { BAR: '1', BAZ: 'x', KEEP: 'k' };
    const to = applyConfigChange(from, { FOO: 'new', BAR: '2', KEEP: 'k' }, ['BAZ']);
    expect(to).toEqual({ BAR: '2', FOO: 'new', KEEP: 'k' });
    expect(describeConfigDiff(diffConfig(from, to))).toBe('env add:FOO change:BAR remove:BAZ');
  });

  it('keeps keys sorted and the input untouched', () => {
    const base = Object.freeze({ B: '1' });
    const next = applyConfigChange(base, { A: '2' }, []);
    expect(Object.keys(next)).toEqual(['A', 'B']);
    expect(base).toEqual({ B: '1' });
    expect(Object.isFrozen(next)).toBe(true);
  });

  it('refuses invalid names and unsetting what is not set, naming each', () => {
    expect(() => applyConfigChange({}, { '1BAD': 'x' }, ['MISSING'])).toThrowError(RewindError);
    try {
      applyConfigChange({}, { '1BAD': 'x' }, ['MISSING']);
    } catch (e) {
      expect((e as Error).message).toBe('"1BAD" is not a valid variable name (letters, digits and _, not starting with a digit); MISSING is not set');
    }
  });

  it('parses K=V with = in the value and refuses a bare word', () => {
    expect(parseAssignments(['A=1', 'URL=postgres://x?a=b'])).toEqual({ A: '1', URL: 'postgres://x?a=b' });
    expect(() => parseAssignments(['NOPE'])).toThrow('"NOPE" is not KEY=VALUE');
  });

  it('masks values of secret-looking keys', () => {
    expect(maskValue('DATABASE_URL', 'postgres://u:p@h/db')).toBe('********');
    expect(maskValue('API_TOKEN', 't')).toBe('********');
    expect(maskValue('GREETING', 'hi')).toBe('hi');
  });
});

describe('keys named like Object.prototype members are plain data', () => {
  const keys = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
  it('are set, diffed, unset and parsed like any other key', () => {
    const set = parseAssignments(keys.map((k) => `${k}=v-${k}`));
    expect(Object.keys(set)).toEqual(keys);
    const next = applyConfigChange({}, set, []);
    expect(Object.keys(next).sort()).toEqual([...keys].sort());
    expect(Object.getPrototypeOf(next)).toBe(Object.prototype);
    expect(diffConfig({}, next)).toEqual({ added: [...keys].sort(), changed: [], removed: [] });
    expect(diffConfig(next, next)).toEqual({ added: [], changed: [], removed: [] });
    const without = applyConfigChange(next, {}, ['toString', '__proto__']);
    expect(Object.keys(without).sort()).toEqual(['constructor', 'hasOwnProperty', 'valueOf']);
    expect(diffConfig(next, without)).toEqual({ added: [], changed: [], removed: ['__proto__', 'toString'] });
    expect(() => applyConfigChange({}, {}, ['toString'])).toThrow('toString is not set');
    expect(() => applyConfigChange({}, {}, ['__proto__'])).toThrow('__proto__ is not set');
  });
  it('plan, revert and component moves never reach the prototype', async () => {
    const { planBetween, revertOnto } = await import('../../src/domain/plan.js');
    const state = (config: Record<string, string>) => ({ builds: {}, config, manifest: null });
    const withKeys = applyConfigChange({}, parseAssignments(keys.map((k) => `${k}=1`)), []);
    expect(planBetween(state({}), state(withKeys)).config.map((c) => `${c.action}:${c.key}:${c.to}`)).toEqual([...keys].sort().map((k) => `add:${k}:1`));
    expect(planBetween(state(withKeys), state({})).config.map((c) => `${c.action}:${c.key}:${c.from}`)).toEqual([...keys].sort().map((k) => `remove:${k}:1`));
    // Reverting the release that added them removes them, and puts nothing on Object.prototype.
    const reverted = revertOnto(state(withKeys), state({}), state(withKeys));
    expect(Object.keys(reverted.config)).toEqual([]);
    const restored = revertOnto(state({}), state(withKeys), state({}));
    expect(Object.keys(restored.config).sort()).toEqual([...keys].sort());
    expect(Object.getPrototypeOf(restored.config)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});

describe('environment settings', () => {
  it('are whole numbers in the ranges the agent accepts, and never prototype members', async () => {
    const { mergeSettings } = await import('../../src/domain/env-settings.js');
    expect(mergeSettings({}, { drainSeconds: 5, standbyMinutes: 0 })).toEqual({ drainSeconds: 5, standbyMinutes: 0 });
    expect(() => mergeSettings({}, { drainSeconds: 0.0001 })).toThrow('drainSeconds must be a whole number from 0 to 3600, got 0.0001');
    expect(() => mergeSettings({}, { standbyMinutes: 1441 })).toThrow('standbyMinutes must be a whole number from 0 to 1440');
    for (const k of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      expect(() => mergeSettings({}, JSON.parse(`{"${k}":1}`))).toThrow(`"${k}" is not a setting`);
    }
    expect(mergeSettings({ drainSeconds: 5 }, { drainSeconds: null })).toEqual({});
  });
});

describe('a component named constructor', () => {
  it('is a component like any other in a Procfile and in a plan', async () => {
    const { manifestFromFiles } = await import('../../src/domain/manifest.js');
    const { planBetween } = await import('../../src/domain/plan.js');
    const m = manifestFromFiles({ Procfile: 'web: node web.js\nconstructor: node c.js\n' });
    expect(Object.keys(m.components).sort()).toEqual(['constructor', 'web']);
    const plan = planBetween({ builds: { web: 'B1' }, config: {}, manifest: null }, { builds: { web: 'B1', constructor: 'B2' }, config: {}, manifest: null });
    expect(plan.components).toEqual([
      { component: 'constructor', action: 'add', from: null, to: 'B2' },
      { component: 'web', action: 'keep', from: 'B1', to: 'B1' },
    ]);
  });
});
