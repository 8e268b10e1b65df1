import { describe, expect, it } from 'vitest';
import { Reason, TwinIndex } from './twin-index.svelte.ts';
import type { TwinSummary } from '../graphql/types.ts';

const twin = (
  id: string,
  state: TwinSummary['state'] = {},
  lat: number | null = 40,
  lng: number | null = -100,
  level: TwinSummary['level'] = null,
): TwinSummary => ({
  id,
  model: 'gas-sensor',
  state,
  lat,
  lng,
  updatedAt: null,
  level,
});

describe('TwinIndex', () => {
  it('adds a located twin as a point coloured by the level its model declares', () => {
    const ix = new TwinIndex();
    ix.upsert(twin('a', { alarmSounded: true }, 40, -100, 'CRITICAL'), Reason.Stream);
    const diff = ix.flush();
    expect(diff?.add).toHaveLength(1);
    expect(diff?.add?.[0]?.properties).toEqual({ level: 4, model: 'gas-sensor' });
    expect(ix.counts[4]).toBe(1);
  });

  it('keeps a twin on the map while any reason holds it', () => {
    const ix = new TwinIndex();
    ix.upsert(twin('a'), Reason.Stream);
    ix.upsert(twin('a'), Reason.Alert);
    ix.flush();
    ix.release('gas-sensor', 'a', Reason.Stream);
    expect(ix.flush()).toBeNull();
    expect(ix.get('gas-sensor/a')).toBeDefined();
    ix.release('gas-sensor', 'a', Reason.Alert);
    expect(ix.flush()?.remove).toHaveLength(1);
    expect(ix.get('gas-sensor/a')).toBeUndefined();
  });

  it('colours a twin by its open alerts when its model declares no level', () => {
    const ix = new TwinIndex();
    ix.upsert(twin('a', { ppm: 10 }), Reason.Stream);
    ix.flush();
    ix.setAlertLevel('gas-sensor', 'a', 3);
    expect(ix.flush()?.update?.[0]?.addOrUpdateProperties).toContainEqual({ key: 'level', value: 3 });
    ix.setAlertLevel('gas-sensor', 'a', 0);
    expect(ix.flush()?.update?.[0]?.addOrUpdateProperties).toContainEqual({ key: 'level', value: 0 });
  });

  it('takes a twin off the map when it loses its location, and keeps its feature id when it returns', () => {
    const ix = new TwinIndex();
    ix.upsert(twin('a'), Reason.Stream);
    const fid = ix.flush()?.add?.[0]?.id;
    ix.upsert(twin('a', {}, null, null), Reason.Stream);
    expect(ix.flush()?.remove).toEqual([fid]);
    ix.upsert(twin('a'), Reason.Stream);
    expect(ix.flush()?.add?.[0]?.id).toBe(fid);
  });

  it('drops every streamed twin of a model at once when its stream restarts', () => {
    const ix = new TwinIndex();
    ix.upsert(twin('a'), Reason.Stream);
    ix.upsert(twin('b'), Reason.Stream);
    ix.upsert({ ...twin('c'), model: 'truck' }, Reason.Stream);
    ix.flush();
    ix.releaseModel('gas-sensor', Reason.Stream);
    expect(ix.flush()?.remove).toHaveLength(2);
    expect(ix.size).toBe(1);
  });
});

describe('TwinIndex.hold', () => {
  it('keeps a streamed twin on the map for an alert after its stream lets go, with its streamed state', () => {
    const ix = new TwinIndex();
    expect(ix.hold('gas-sensor', 'a', Reason.Alert)).toBe(false);
    ix.upsert(twin('a', { ppm: 60, limitExceeded: true }), Reason.Stream);
    expect(ix.hold('gas-sensor', 'a', Reason.Alert)).toBe(true);
    ix.release('gas-sensor', 'a', Reason.Stream);
    expect(ix.get('gas-sensor/a')?.twin.state).toEqual({ ppm: 60, limitExceeded: true });
  });
});
