import { describe, expect, it } from 'vitest';
import { formatAgo, formatDuration, formatNumber } from './format.ts';

describe('formatNumber', () => {
  it('shows fewer decimals the larger the number', () => {
    expect(formatNumber(0.4234)).toBe('0.42');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(3999.29)).toBe('3,999');
  });

  it('abbreviates large numbers only when asked', () => {
    expect(formatNumber(22_500, true)).toBe('22.5K');
    expect(formatNumber(9_999, true)).toBe('9,999');
    expect(formatNumber(null)).toBe('—');
  });
});

describe('formatAgo and formatDuration', () => {
  it('reads like a person would say it', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAgo('2026-01-01T11:59:48Z', now)).toBe('12 s ago');
    expect(formatAgo('2026-01-01T11:57:00Z', now)).toBe('3 min ago');
    expect(formatDuration(3_725)).toBe('1 h 2 min');
  });
});
