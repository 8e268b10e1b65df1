import { describe, expect, it } from 'vitest';
import { MAX_RESOLUTION, resolutionForZoom } from './hex-resolution.ts';

describe('resolutionForZoom', () => {
  it('grows finer as the map zooms in', () => {
    let last = -1;
    for (let z = 0; z <= 16; z++) {
      const r = resolutionForZoom(z, 40);
      expect(r).toBeGreaterThanOrEqual(last);
      last = r;
    }
  });

  it('shows continental hexagons for a whole-country view and city-block hexagons at street zoom', () => {
    expect(resolutionForZoom(3.5, 39)).toBeLessThanOrEqual(3);
    expect(resolutionForZoom(14, 39)).toBeGreaterThanOrEqual(8);
  });

  it('never goes past the finest resolution the dashboard asks for', () => {
    expect(resolutionForZoom(22)).toBe(MAX_RESOLUTION);
  });
});
