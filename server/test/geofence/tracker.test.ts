import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/engine/clock.js';
import { compileFence, parseGeofence, type Fence } from '../../src/geofence/fence.js';
import { FenceTracker, type FenceEvent } from '../../src/geofence/tracker.js';

const T0 = 1_700_000_000_000;

const square = (name: string, w: number, s: number, e: number, n: number, extra: Record<string, unknown> = {}): Fence =>
  compileFence(
    parseGeofence({
      name,
      ...extra,
      shape: {
        type: 'Polygon',
        coordinates: [
          [
            [w, s],
            [e, s],
            [e, n],
            [w, n],
          ],
        ],
      },
    }),
    'api',
    T0,
  );

function setup() {
  const clock = new VirtualClock(T0);
  const events: FenceEvent[] = [];
  const tracker = new FenceTracker(clock, (e) => events.push(e));
  const seen = () => events.splice(0).map((e) => `${e.type} ${e.fence.name} ${e.model}/${e.twinId}${e.dwellMs !== undefined ? ` ${e.dwellMs}` : ''}`);
  return { clock, tracker, seen };
}

describe('Crossing', () => {
  it('sends ENTER when a twin moves into a fence and EXIT when it moves out, nothing while it stays', () => {
    const { tracker, seen } = setup();
    tracker.put(square('yard', 0, 0, 1, 1), []);
    tracker.moved('truck', 't1', 2, 2);
    expect(seen()).toEqual([]);
    tracker.moved('truck', 't1', 0.5, 0.5);
    expect(seen()).toEqual(['ENTER yard truck/t1']);
    tracker.moved('truck', 't1', 0.6, 0.6);
    tracker.moved('truck', 't1', undefined, undefined);
    expect(seen()).toEqual([]);
    expect(tracker.fencesOf('truck', 't1')).toEqual(['yard']);
    tracker.moved('truck', 't1', 1.5, 0.5);
    expect(seen()).toEqual(['EXIT yard truck/t1']);
    expect(tracker.inside).toBe(0);
  });

  it('moves a twin from one fence to an overlapping one with EXIT and ENTER in the same move', () => {
    const { tracker, seen } = setup();
    tracker.put(square('a', 0, 0, 2, 2), []);
    tracker.put(square('b', 1, 1, 3, 3), []);
    tracker.moved('truck', 't1', 0.5, 0.5);
    tracker.moved('truck', 't1', 1.5, 1.5);
    tracker.moved('truck', 't1', 2.5, 2.5);
    expect(seen()).toEqual(['ENTER a truck/t1', 'ENTER b truck/t1', 'EXIT a truck/t1']);
  });

  it('applies a model fence to that model only and an all-models fence to every model', () => {
    const { tracker, seen } = setup();
    tracker.put(square('trucks', 0, 0, 1, 1, { model: 'truck' }), []);
    tracker.put(square('all', 0, 0, 1, 1), []);
    tracker.moved('truck', 'x', 0.5, 0.5);
    tracker.moved('van', 'x', 0.5, 0.5);
    expect(seen().sort()).toEqual(['ENTER all truck/x', 'ENTER all van/x', 'ENTER trucks truck/x']);
  });

  it('takes memberships quietly after a restart, then reports the next crossing', () => {
    const { tracker, seen } = setup();
    tracker.put(square('yard', 0, 0, 1, 1), []);
    tracker.moved('truck', 't1', 0.5, 0.5, true);
    expect(seen()).toEqual([]);
    tracker.moved('truck', 't1', 5, 5);
    expect(seen()).toEqual(['EXIT yard truck/t1']);
  });
});

describe('Fence changes', () => {
  it('sends ENTER to twins inside a new fence, EXIT to those a replaced fence no longer covers, EXIT to all on removal', () => {
    const { tracker, seen } = setup();
    const twins = [
      { model: 'truck', id: 'in', lat: 0.5, lng: 0.5 },
      { model: 'truck', id: 'edge', lat: 0.5, lng: 1.5 },
      { model: 'truck', id: 'nowhere', lat: undefined, lng: undefined },
    ];
    tracker.put(square('yard', 0, 0, 2, 2), twins);
    expect(seen()).toEqual(['ENTER yard truck/in', 'ENTER yard truck/edge']);
    tracker.put(square('yard', 0, 0, 1, 1), twins);
    expect(seen()).toEqual(['EXIT yard truck/edge']);
    expect(tracker.remove('yard')).toBe(true);
    expect(seen()).toEqual(['EXIT yard truck/in']);
    expect(tracker.list()).toEqual([]);
    tracker.moved('truck', 'in', 0.4, 0.4);
    expect(seen()).toEqual([]);
  });

  it('sends EXIT to twins of other models when a fence for every model is narrowed to one model', () => {
    const { tracker, seen } = setup();
    tracker.put(square('yard', 0, 0, 1, 1), []);
    tracker.moved('van', 'v', 0.5, 0.5);
    tracker.moved('truck', 't', 0.5, 0.5);
    seen();
    tracker.put(square('yard', 0, 0, 1, 1, { model: 'truck' }), [{ model: 'truck', id: 't', lat: 0.5, lng: 0.5 }]);
    expect(seen()).toEqual(['EXIT yard van/v']);
    expect(tracker.fencesOf('truck', 't')).toEqual(['yard']);
  });
});

describe('Dwell', () => {
  it('sends DWELL once per stay after dwellMs on the engine clock, and not after the twin left', async () => {
    const { clock, tracker, seen } = setup();
    tracker.put(square('gate', 0, 0, 1, 1, { dwellMs: 60_000 }), []);
    tracker.moved('truck', 't1', 0.5, 0.5);
    await clock.advanceTo(T0 + 59_999, async () => {});
    expect(seen()).toEqual(['ENTER gate truck/t1']);
    await clock.advanceTo(T0 + 120_000, async () => {});
    expect(seen()).toEqual(['DWELL gate truck/t1 60000']);
    tracker.moved('truck', 't1', 5, 5);
    tracker.moved('truck', 't1', 0.5, 0.5);
    await clock.advanceTo(T0 + 150_000, async () => {});
    tracker.moved('truck', 't1', 5, 5);
    await clock.advanceTo(T0 + 300_000, async () => {});
    expect(seen()).toEqual(['EXIT gate truck/t1', 'ENTER gate truck/t1', 'EXIT gate truck/t1']);
  });

  it('forgets a removed twin without events and without a later DWELL', async () => {
    const { clock, tracker, seen } = setup();
    tracker.put(square('gate', 0, 0, 1, 1, { dwellMs: 1_000 }), []);
    tracker.moved('truck', 't1', 0.5, 0.5);
    seen();
    tracker.forget('truck', 't1');
    await clock.advanceTo(T0 + 5_000, async () => {});
    expect(seen()).toEqual([]);
    expect(tracker.inside).toBe(0);
  });
});
