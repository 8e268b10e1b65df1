import { describe, expect, it } from 'vitest';
import { alertingFilter, stateLevel } from './severity.ts';

describe('stateLevel', () => {
  it('maps a grid node alert level to warning and critical bands', () => {
    expect(stateLevel({ alertLevel: 0 })).toBe(0);
    expect(stateLevel({ alertLevel: 2 })).toBe(1);
    expect(stateLevel({ alertLevel: 5 })).toBe(2);
    expect(stateLevel({ alertLevel: 20 })).toBe(4);
  });

  it('treats a sounded gas alarm as critical and an exceeded limit as a warning', () => {
    expect(stateLevel({ ppm: 300, limitExceeded: true, alarmSounded: true })).toBe(4);
    expect(stateLevel({ ppm: 60, limitExceeded: true, alarmSounded: false })).toBe(2);
    expect(stateLevel({ ppm: 20, limitExceeded: false, alarmSounded: false })).toBe(0);
  });

  it('reads status words case-insensitively and keeps the highest level', () => {
    expect(stateLevel({ status: 'offRoute' })).toBe(2);
    expect(stateLevel({ status: 'positive', alertLevel: 1 })).toBe(4);
    expect(stateLevel({ status: 'moving' })).toBe(0);
  });
});

describe('alertingFilter', () => {
  it('is null for a model without alert-like fields', () => {
    expect(alertingFilter([{ name: 'temp', type: 'number' }])).toBeNull();
  });

  it('uses a single condition as is and ORs several', () => {
    expect(alertingFilter([{ name: 'alertLevel', type: 'number' }])).toEqual({ field: 'alertLevel', op: 'GT', value: 0 });
    const f = alertingFilter([
      { name: 'alarmSounded', type: 'boolean' },
      { name: 'limitExceeded', type: 'boolean' },
    ]);
    expect(f?.or).toEqual([
      { field: 'alarmSounded', op: 'EQ', value: true },
      { field: 'limitExceeded', op: 'EQ', value: true },
    ]);
  });
});
