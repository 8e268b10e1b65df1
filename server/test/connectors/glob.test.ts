import { describe, expect, it } from 'vitest';
import { GlobPattern } from '../../src/auth/auth.js';

describe('Device scope globs', () => {
  it.each([
    ['probe/*', 'probe/x', true],
    ['probe/*', 'gas/x', false],
    ['probe/pump-*', 'probe/pump-', true],
    ['probe/pump-7', 'probe/pump-7', true],
    ['probe/pump-7', 'probe/pump-70', false],
    ['*', '', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*ba*a', 'aba', false],
    ['a*ab*b', 'aabb', true],
    ['*x*', 'yyxyy', true],
  ])('%s matches %s: %s', (glob, subject, want) => {
    expect(new GlobPattern(glob).test(subject)).toBe(want);
  });

  it('refuses a pathological subject at once where a .* regular expression would backtrack for hours', () => {
    const glob = new GlobPattern('m/' + 'a*'.repeat(20) + 'b');
    expect(glob.test('m/' + 'a'.repeat(100_000))).toBe(false);
    expect(glob.test('m/' + 'a'.repeat(100_000) + 'b')).toBe(true);
  });
});
