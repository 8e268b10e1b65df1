import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/connectors/rate-limiter.js';

describe('TokenBucket', () => {
  it('allows a second worth of messages at once, then refills at the rate', () => {
    const b = new TokenBucket(100, 0);
    expect(b.take(100, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.waitMs(10, 0)).toBe(100);
    expect(b.take(10, 100)).toBe(true);
    expect(b.take(1, 100)).toBe(false);
  });

  it('never holds more than one second worth, however long it was idle', () => {
    const b = new TokenBucket(100, 0);
    expect(b.take(100, 60_000)).toBe(true);
    expect(b.take(1, 60_000)).toBe(false);
  });

  it('lets a batch larger than the bucket pass when full, leaving it in debt so the long-run rate holds', () => {
    const b = new TokenBucket(100, 0);
    expect(b.take(250, 0)).toBe(true);
    expect(b.take(1, 1_000)).toBe(false);
    expect(b.waitMs(100, 1_000)).toBe(1_500);
    expect(b.take(100, 2_500)).toBe(true);
  });

  it('takes nothing when it refuses', () => {
    const b = new TokenBucket(10, 0);
    expect(b.take(8, 0)).toBe(true);
    expect(b.take(5, 0)).toBe(false);
    expect(b.take(2, 0)).toBe(true);
  });
});
