import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BEAT_MS } from '../util/beat.ts';
import { MAP_SHARE, MAX_MAP_INTERVAL_MS, MapPacer } from './map-beat.ts';

describe('MapPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('updates the map on every UI beat while repaints are cheap', async () => {
    const pacer = new MapPacer(() => Date.now());
    const work = vi.fn();
    for (let i = 0; i < 4; i++) {
      pacer.schedule(work);
      await vi.advanceTimersByTimeAsync(BEAT_MS);
    }
    expect(work).toHaveBeenCalledTimes(4);
  });

  it('waits until the repaints an update caused are at most its share of the time since', async () => {
    const pacer = new MapPacer(() => Date.now());
    const work = vi.fn();
    pacer.schedule(work);
    await vi.advanceTimersByTimeAsync(BEAT_MS);
    expect(work).toHaveBeenCalledTimes(1);
    // the update's tiles came back in three parts, each a long repaint
    pacer.observe(200);
    pacer.observe(200);
    pacer.observe(200);
    const wait = 600 / MAP_SHARE;
    expect(pacer.interval).toBe(wait);
    pacer.schedule(work);
    await vi.advanceTimersByTimeAsync(Math.floor(wait / BEAT_MS) * BEAT_MS - BEAT_MS);
    expect(work).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2 * BEAT_MS);
    expect(work).toHaveBeenCalledTimes(2);
    // and the next update is judged on its own repaints only
    expect(pacer.interval).toBe(BEAT_MS);
  });

  it('runs every layer asked for in the same update, each once', async () => {
    const pacer = new MapPacer(() => Date.now());
    const order: string[] = [];
    const twins = () => order.push('twins');
    const hexes = () => order.push('hexes');
    pacer.schedule(twins);
    pacer.schedule(hexes);
    pacer.schedule(twins);
    await vi.advanceTimersByTimeAsync(BEAT_MS);
    expect(order).toEqual(['twins', 'hexes']);
  });

  it('never waits longer than its ceiling, however busy the page', async () => {
    const pacer = new MapPacer(() => Date.now());
    const work = vi.fn();
    pacer.schedule(work);
    await vi.advanceTimersByTimeAsync(BEAT_MS);
    pacer.observe(60_000);
    expect(pacer.interval).toBe(MAX_MAP_INTERVAL_MS);
    pacer.schedule(work);
    await vi.advanceTimersByTimeAsync(MAX_MAP_INTERVAL_MS - 2 * BEAT_MS);
    expect(work).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2 * BEAT_MS);
    expect(work).toHaveBeenCalledTimes(2);
  });
});
