import { describe, expect, it } from 'vitest';
import { RingBuffer, pushBounded, sessionWindows, slidingWindows, tumblingWindows } from '../src/windows.js';

const ev = (t: number) => ({ t });
const time = (e: { t: number }) => e.t;

describe('Time windows', () => {
  it('tumbling windows are aligned, non-overlapping and half-open', () => {
    const w = tumblingWindows([ev(0), ev(999), ev(1000), ev(2500)], { sizeMs: 1000, time });
    expect(w.map((x) => [x.start, x.end, x.events.map(time)])).toEqual([
      [0, 1000, [0, 999]],
      [1000, 2000, [1000]],
      [2000, 3000, [2500]],
    ]);
  });

  it('tumbling windows over a range include empty windows', () => {
    const w = tumblingWindows([ev(1500)], { sizeMs: 1000, time, from: 0, to: 3000 });
    expect(w.map((x) => x.events.length)).toEqual([0, 1, 0]);
  });

  it('sliding windows put an event in every window covering it', () => {
    const w = slidingWindows([ev(1500)], { sizeMs: 2000, stepMs: 1000, time });
    expect(w.map((x) => [x.start, x.end])).toEqual([
      [0, 2000],
      [1000, 3000],
    ]);
  });

  it('session windows split on gaps longer than the gap', () => {
    const w = sessionWindows([ev(0), ev(100), ev(250), ev(1000), ev(1050)], { gapMs: 200, time });
    expect(w.map((x) => x.events.map(time))).toEqual([
      [0, 100, 250],
      [1000, 1050],
    ]);
  });

  it('ring buffer keeps the newest items, oldest first', () => {
    const r = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(pushBounded([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
  });
});
