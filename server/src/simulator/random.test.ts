import { describe, expect, it } from 'vitest';
import { Random, WeightedPicker } from './random.js';

const draw = (r: Random, n: number) => Array.from({ length: n }, () => r.nextUint32());

describe('Random', () => {
  it('gives the same sequence for the same seed', () => {
    expect(draw(new Random(1), 100)).toEqual(draw(new Random(1), 100));
    expect(draw(new Random('demo'), 100)).toEqual(draw(new Random('demo'), 100));
  });

  it('gives different sequences for different seeds and labels', () => {
    expect(draw(new Random(1), 10)).not.toEqual(draw(new Random(2), 10));
    expect(draw(Random.derive(1, 'grid'), 10)).not.toEqual(draw(Random.derive(1, 'truck'), 10));
  });

  it('stays inside the ranges asked for', () => {
    const r = new Random(7);
    for (let k = 0; k < 10_000; k++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      const i = r.int(5);
      expect(Number.isInteger(i) && i >= 0 && i < 5).toBe(true);
    }
  });

  it('samples distinct indexes', () => {
    const s = new Random(3).sample(10, 10);
    expect(new Set(s).size).toBe(10);
    expect(() => new Random(3).sample(3, 4)).toThrow(RangeError);
  });
});

describe('WeightedPicker', () => {
  it('draws in proportion to the weights and never draws a zero weight', () => {
    const picker = new WeightedPicker([1, 0, 3]);
    const r = new Random(11);
    const counts = [0, 0, 0];
    for (let k = 0; k < 40_000; k++) counts[picker.pick(r)]!++;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.7);
    expect(counts[2]! / counts[0]!).toBeLessThan(3.3);
  });

  it('refuses weights that are all zero or negative', () => {
    expect(() => new WeightedPicker([0, 0])).toThrow(RangeError);
    expect(() => new WeightedPicker([1, -1])).toThrow(RangeError);
  });
});
