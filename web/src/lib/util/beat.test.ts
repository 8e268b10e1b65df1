import { describe, expect, it, vi } from 'vitest';
import { BEAT_MS, onBeat } from './beat.ts';

describe('onBeat', () => {
  it('runs work asked for several times once, on the next beat', async () => {
    vi.useFakeTimers();
    try {
      const work = vi.fn();
      onBeat(work);
      onBeat(work);
      expect(work).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(BEAT_MS);
      expect(work).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('runs the work of different callers in the same beat', async () => {
    vi.useFakeTimers();
    try {
      const order: string[] = [];
      onBeat(() => order.push('twins'));
      onBeat(() => order.push('alerts'));
      await vi.advanceTimersByTimeAsync(BEAT_MS);
      expect(order).toEqual(['twins', 'alerts']);
    } finally {
      vi.useRealTimers();
    }
  });
});
