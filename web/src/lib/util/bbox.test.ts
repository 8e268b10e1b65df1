import { describe, expect, it } from 'vitest';
import { snapBbox } from './bbox.ts';

describe('snapBbox', () => {
  it('contains the viewport with a margin', () => {
    const [w, s, e, n] = snapBbox([-74.1, 40.6, -73.8, 40.9]);
    expect(w).toBeLessThan(-74.1);
    expect(s).toBeLessThan(40.6);
    expect(e).toBeGreaterThan(-73.8);
    expect(n).toBeGreaterThan(40.9);
  });

  it('gives the same bbox for a small pan', () => {
    expect(snapBbox([-74.1, 40.6, -73.8, 40.9])).toEqual(snapBbox([-74.09, 40.61, -73.79, 40.91]));
  });

  it('stays inside the world', () => {
    const [w, s, e, n] = snapBbox([-179.9, -89.9, 179.9, 89.9]);
    expect([w, s, e, n]).toEqual([-180, -90, 180, 90]);
  });
});
