import { describe, expect, it } from 'vitest';
import { haversineKm, haversineKmBetween } from '../src/geo.js';

const PARIS = { lat: 48.8566, lng: 2.3522 };
const LONDON = { lat: 51.5074, lng: -0.1278 };

describe('Great-circle distance', () => {
  it('measures Paris to London as about 344 km, the same both ways', () => {
    expect(haversineKm(PARIS, LONDON)).toBeCloseTo(343.6, 0);
    expect(haversineKm(LONDON, PARIS)).toBe(haversineKm(PARIS, LONDON));
  });

  it('gives the same km for points and for plain coordinates', () => {
    expect(haversineKmBetween(PARIS.lat, PARIS.lng, LONDON.lat, LONDON.lng)).toBe(haversineKm(PARIS, LONDON));
  });

  it('is zero for a point and half the circumference for antipodes', () => {
    expect(haversineKm(PARIS, PARIS)).toBe(0);
    expect(haversineKm({ lat: 0, lng: 0 }, { lat: 0, lng: 180 })).toBeCloseTo(Math.PI * 6371.0088, 6);
  });
});
