import { describe, expect, it } from 'vitest';
import { hexScale, niceCeil, scaleChanged, scaleExpression } from './hex-scale.ts';

describe('hexScale', () => {
  it('rounds the top of the domain up to 1, 2 or 5 times a power of ten', () => {
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(130)).toBe(200);
    expect(niceCeil(0.04)).toBe(0.05);
    expect(hexScale([3, 17, 41], true)).toEqual({ min: 0, max: 50, sqrt: true });
  });

  it('reaches below zero for negative readings on a linear scale', () => {
    const s = hexScale([-12, 30], false);
    expect(s.min).toBeLessThanOrEqual(-12);
    expect(s.max).toBe(50);
  });

  it('falls back to 0..1 when there are no values', () => {
    expect(hexScale([], true)).toEqual({ min: 0, max: 1, sqrt: true });
  });

  it('keeps the scale while the data stays within it, so the map does not repaint every second', () => {
    const a = hexScale([40], true);
    expect(scaleChanged(a, hexScale([45], true))).toBe(false);
    expect(scaleChanged(a, hexScale([60], true))).toBe(true);
    expect(scaleChanged(a, hexScale([4], true))).toBe(true);
  });

  it('builds strictly increasing interpolation stops', () => {
    const expr = scaleExpression({ min: 0, max: 100, sqrt: true });
    const stops = expr.slice(3).filter((_, i) => i % 2 === 0) as number[];
    for (let i = 1; i < stops.length; i++) expect(stops[i]!).toBeGreaterThan(stops[i - 1]!);
  });
});
