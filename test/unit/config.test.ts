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
