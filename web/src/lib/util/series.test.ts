import { describe, expect, it } from 'vitest';
import { History, groupLabel, snapshot } from './series.ts';

describe('snapshot', () => {
  it('labels groups and picks the count or the first metric', () => {
    const groups = [
      { key: 'severe', count: 3, values: [12.5] },
      { key: null, count: 1, values: [null] },
    ];
    expect(snapshot(groups, true, 10)).toEqual({ labels: ['severe', '(none)'], values: [3, 1] });
    expect(snapshot(groups, false, 1)).toEqual({ labels: ['severe'], values: [12.5] });
    expect(groupLabel(true)).toBe('true');
  });
});

describe('History', () => {
  it('keeps every series aligned with the time axis when groups come and go', () => {
    const h = new History(10);
    h.push(1, { labels: ['a'], values: [1] });
    h.push(2, { labels: ['a', 'b'], values: [2, 5] });
    h.push(3, { labels: ['b'], values: [6] });
    expect(h.times).toEqual([1, 2, 3]);
    expect(h.series.get('a')).toEqual([1, 2, null]);
    expect(h.series.get('b')).toEqual([null, 5, 6]);
  });

  it('drops the oldest points past its capacity, and series left empty', () => {
    const h = new History(2);
    h.push(1, { labels: ['old'], values: [1] });
    h.push(2, { labels: ['new'], values: [2] });
    h.push(3, { labels: ['new'], values: [3] });
    expect(h.times).toEqual([2, 3]);
    expect(h.series.has('old')).toBe(false);
    expect(h.series.get('new')).toEqual([2, 3]);
  });
});
