import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src/connectors/json-depth.js';

const b = (s: string) => Buffer.from(s);

describe('JSON depth guard', () => {
  it('counts nesting of objects and arrays', () => {
    expect(nestsDeeperThan(b('[[[1]]]'), 3)).toBe(false);
    expect(nestsDeeperThan(b('[[[[1]]]]'), 3)).toBe(true);
    expect(nestsDeeperThan(b('{"a":{"b":{"c":{}}}}'), 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(b(`{"a":"[[[[[[\\"[[[[[[[["}`), 2)).toBe(false);
  });

  it('measures depth, not the number of brackets', () => {
    const wide = '[' + Array.from({ length: 500 }, () => '[1]').join(',') + ']';
    expect(nestsDeeperThan(b(wide), 2)).toBe(false);
  });
});
