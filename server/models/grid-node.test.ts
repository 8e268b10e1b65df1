import { afterEach, describe, expect, it } from 'vitest';
import { createWorkbench, type Workbench } from '../src/workbench.js';
import { gridNode, MAX_INCIDENTS, REGION_SEVERE_NODES, SILENCE_MS, type GridNodeState, type NodeType, type ReportedCondition } from './grid-node.js';

let wb: Workbench;
afterEach(() => wb?.close());

const init = (nodeType: NodeType) => ({ type: 'init', nodeType, region: 'Chicago', lat: 41.88, lng: -87.63 });
const status = (condition: ReportedCondition, timestamp?: number) => ({ type: 'status', condition, ...(timestamp === undefined ? {} : { timestamp }) });

async function node(nodeType?: NodeType) {
  wb = await createWorkbench({ models: [gridNode] });
  if (nodeType) await wb.send('grid-node', 'n1', init(nodeType));
  const state = () => wb.state<GridNodeState>('grid-node', 'n1')!;
  /** Send conditions in order; returns the alert level after each. */
  const levels = async (...conditions: ReportedCondition[]) => {
    const out: number[] = [];
    for (const c of conditions) {
      await wb.send('grid-node', 'n1', status(c));
      out.push(state().alertLevel);
    }
    return out;
  };
  return { state, levels };
}

describe('Before any init or status', () => {
  it('treats a status before any init as coming from an infrastructure node', async () => {
    const { state, levels } = await node();
    expect(await levels('severe')).toEqual([10]);
    expect(state()).toMatchObject({ nodeType: 'infrastructure', region: null, lat: null, lng: null });
    expect(wb.twin('grid-node', 'n1')!.lat).toBeUndefined();
  });

  it('reports condition unknown until the first status, and is placed by its init', async () => {
    const { state } = await node('controller');
    expect(state()).toMatchObject({ nodeType: 'controller', region: 'Chicago', condition: 'unknown', alertLevel: 0, totalIncidents: 0 });
    const twin = wb.twin('grid-node', 'n1')!;
    expect([twin.lat, twin.lng]).toEqual([41.88, -87.63]);
  });
});

describe('Alert level', () => {
  it.each([
    ['infrastructure', 'minor', 1],
    ['controller', 'minor', 2],
    ['infrastructure', 'severe', 10],
    ['controller', 'severe', 20],
    ['infrastructure', 'normal', 0],
    ['controller', 'offline', 0],
  ] as const)('%s node, %s: level %i', async (type, condition, level) => {
    const { levels } = await node(type);
    expect(await levels(condition)).toEqual([level]);
  });

  it('drops to 0 on normal or offline', async () => {
    const { levels } = await node('controller');
    expect(await levels('severe', 'normal', 'moderate', 'offline')).toEqual([20, 0, 11, 0]);
  });

  it('moderate with no history: 6 for infrastructure, 12 for a controller', async () => {
    expect(await (await node('infrastructure')).levels('moderate')).toEqual([6]);
    await wb.close();
    expect(await (await node('controller')).levels('moderate')).toEqual([12]);
  });

  it('moderate after a severe incident was ever seen: 5 / 11, even with false alarms since', async () => {
    expect(await (await node('infrastructure')).levels('severe', 'normal', 'minor', 'normal', 'moderate')).toEqual([10, 0, 1, 0, 5]);
    await wb.close();
    expect(await (await node('controller')).levels('severe', 'offline', 'moderate')).toEqual([20, 0, 11]);
  });

  it('moderate when false alarms are at least half the moderate incidents: 7 / 13', async () => {
    // one moderate, then a false alarm: 1 / 1 >= 0.5, judged before counting the new one
    expect(await (await node('infrastructure')).levels('moderate', 'normal', 'moderate')).toEqual([6, 0, 7]);
    await wb.close();
    // exactly half: 1 false alarm over 2 moderate incidents
    expect(await (await node('controller')).levels('moderate', 'moderate', 'normal', 'moderate')).toEqual([12, 12, 0, 13]);
  });

  it('counts a minor false alarm too, over at least one moderate incident', async () => {
    // 1 false alarm / max(1, 0 moderate incidents) = 1
    expect(await (await node('infrastructure')).levels('minor', 'normal', 'moderate')).toEqual([1, 0, 7]);
  });

  it('moderate when false alarms are under half the moderate incidents: 8 / 14', async () => {
    expect(await (await node('infrastructure')).levels('moderate', 'moderate', 'moderate', 'normal', 'moderate')).toEqual([6, 6, 6, 0, 8]);
    await wb.close();
    expect(await (await node('controller')).levels('moderate', 'moderate', 'moderate', 'offline', 'moderate')).toEqual([12, 12, 12, 0, 14]);
  });
});

describe('Incident counts', () => {
  it('adds minor, moderate and severe reports to their counts, the total and the incident list', async () => {
    const { state, levels } = await node('infrastructure');
    await levels('minor', 'moderate', 'moderate', 'severe', 'normal', 'offline');
    expect(state()).toMatchObject({ minorCount: 1, moderateCount: 2, severeCount: 1, totalIncidents: 4 });
    expect(state().incidents.map((i) => i.condition)).toEqual(['minor', 'moderate', 'moderate', 'severe']);
    expect(state().incidents.every((i) => i.time === wb.now())).toBe(true);
  });

  it('keeps only the 10 most recent incidents', async () => {
    const { state } = await node('infrastructure');
    const t0 = wb.now();
    await wb.send(
      'grid-node',
      'n1',
      Array.from({ length: 12 }, (_, i) => status('minor', t0 + i)),
    );
    expect(state().totalIncidents).toBe(12);
    expect(state().incidents).toHaveLength(MAX_INCIDENTS);
    expect(state().incidents[0]).toEqual({ time: t0 + 2, condition: 'minor' });
    expect(state().incidents.at(-1)).toEqual({ time: t0 + 11, condition: 'minor' });
  });

  it('counts an ended minor or moderate incident as a false alarm and resolved, a severe one as resolved only', async () => {
    const { state, levels } = await node('infrastructure');
    await levels('minor', 'normal');
    expect(state()).toMatchObject({ falseAlarms: 1, resolved: 1 });
    await levels('moderate', 'offline');
    expect(state()).toMatchObject({ falseAlarms: 2, resolved: 2 });
    await levels('severe', 'normal');
    expect(state()).toMatchObject({ falseAlarms: 2, resolved: 3 });
    await levels('normal', 'offline');
    expect(state()).toMatchObject({ falseAlarms: 2, resolved: 3 });
  });

  it('uses the message timestamp, epoch ms or ISO, else the engine time, for lastSeen and incidents', async () => {
    const { state } = await node('infrastructure');
    const t = Date.parse('2025-12-31T23:00:00Z');
    await wb.send('grid-node', 'n1', status('minor', t));
    expect(state().lastSeen).toBe(t);
    await wb.send('grid-node', 'n1', { type: 'status', condition: 'severe', timestamp: '2025-12-31T23:30:00Z' });
    expect(state().incidents.at(-1)).toEqual({ time: t + 30 * 60_000, condition: 'severe' });
    await wb.send('grid-node', 'n1', status('normal'));
    expect(state().lastSeen).toBe(wb.now());
  });
});

describe('Alerts', () => {
  it('raises CRITICAL on entering severe and WARNING on entering moderate, not on every report', async () => {
    const { levels } = await node('infrastructure');
    await levels('severe', 'severe', 'severe', 'moderate', 'moderate', 'minor', 'minor');
    expect(wb.alerts.map((a) => a.severity)).toEqual(['CRITICAL', 'WARNING']);
    expect(wb.alerts[0]).toMatchObject({ model: 'grid-node', twinId: 'n1' });
  });

  it('raises again on entering the level again', async () => {
    const { levels } = await node('infrastructure');
    await levels('moderate', 'normal', 'moderate', 'severe', 'moderate', 'severe');
    expect(wb.alerts.map((a) => a.severity)).toEqual(['WARNING', 'WARNING', 'CRITICAL', 'WARNING', 'CRITICAL']);
  });

  it('raises nothing for minor, normal or offline', async () => {
    const { levels } = await node('controller');
    await levels('minor', 'normal', 'offline', 'minor');
    expect(wb.alerts).toHaveLength(0);
  });
});

describe('Silence timer', () => {
  it('marks a node unreachable after more than 5 minutes of silence, with one WARNING', async () => {
    const { state, levels } = await node('infrastructure');
    await levels('minor');
    await wb.advance(SILENCE_MS);
    expect(state().condition).toBe('minor');
    await wb.advance(1);
    expect(state().condition).toBe('unreachable');
    expect(wb.alerts.map((a) => [a.severity, a.title])).toEqual([['WARNING', 'Node unreachable']]);
    await wb.advance(60 * 60_000);
    expect(wb.alerts).toHaveLength(1);
  });

  it('restarts the silence at every message', async () => {
    const { state, levels } = await node('infrastructure');
    await wb.advance(4 * 60_000);
    await levels('normal');
    await wb.advance(4 * 60_000);
    await levels('normal');
    await wb.advance(SILENCE_MS);
    expect(state().condition).toBe('normal');
    expect(wb.alerts).toHaveLength(0);
  });

  it('is cleared by the next message: a status sets its condition, judged against the last one reported', async () => {
    const { state, levels } = await node('infrastructure');
    await levels('moderate');
    await wb.advance(SILENCE_MS + 1);
    expect(state().condition).toBe('unreachable');
    await levels('normal');
    expect(state()).toMatchObject({ condition: 'normal', falseAlarms: 1, resolved: 1 });
  });

  it('is cleared by an init message too, back to the last condition reported', async () => {
    const { state, levels } = await node('infrastructure');
    await levels('severe');
    await wb.advance(SILENCE_MS + 1);
    await wb.send('grid-node', 'n1', init('infrastructure'));
    expect(state().condition).toBe('severe');
    expect(state().alertLevel).toBe(10);
  });

  it('does not re-raise the level alert when a node comes back in the condition it left in', async () => {
    const { levels } = await node('infrastructure');
    await levels('severe');
    await wb.advance(SILENCE_MS + 1);
    await levels('severe');
    expect(wb.alerts.map((a) => a.severity)).toEqual(['CRITICAL', 'WARNING']);
  });

  it('goes unreachable again after a new silence', async () => {
    const { state } = await node('infrastructure');
    await wb.advance(SILENCE_MS + 1);
    await wb.send('grid-node', 'n1', status('normal'));
    await wb.advance(SILENCE_MS + 1);
    expect(state().condition).toBe('unreachable');
    expect(wb.alerts).toHaveLength(2);
  });
});

describe('Validation', () => {
  it('refuses an unknown condition, naming the field', async () => {
    await node();
    await expect(wb.send('grid-node', 'n1', { type: 'status', condition: 'apocalyptic' })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('condition'),
    });
  });

  it('refuses an init message without a region, naming the field', async () => {
    await node();
    await expect(wb.send('grid-node', 'n1', { type: 'init', nodeType: 'controller', lat: 1, lng: 2 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('region'),
    });
  });
});

describe('Region feedback (severeByRegion)', () => {
  it('raises every node of a region to WARNING once the region has REGION_SEVERE_NODES severe nodes', async () => {
    wb = await createWorkbench({ models: [gridNode] });
    const nodes = ['a', 'b', 'c', 'quiet'];
    for (const id of nodes) await wb.send('grid-node', id, init('infrastructure'));
    for (const id of nodes.slice(0, REGION_SEVERE_NODES - 1)) await wb.send('grid-node', id, status('severe'));
    await wb.advance(5_000);
    await wb.send('grid-node', 'quiet', status('normal'));
    expect(wb.state<GridNodeState>('grid-node', 'quiet')).toMatchObject({ regionSevere: REGION_SEVERE_NODES - 1, regionAlarm: false });
    expect(wb.twin('grid-node', 'quiet')!.state).toMatchObject({ alertLevel: 0 });

    await wb.send('grid-node', nodes[REGION_SEVERE_NODES - 1]!, status('severe'));
    await wb.advance(5_000);
    wb.clear();
    await wb.send('grid-node', 'quiet', status('normal'));
    const quiet = wb.state<GridNodeState>('grid-node', 'quiet')!;
    expect(quiet).toMatchObject({ regionSevere: REGION_SEVERE_NODES, regionAlarm: true, alertLevel: 0 });
    expect(gridNode.level!(quiet)).toBe('WARNING');
    expect(wb.alerts.map((a) => a.title)).toEqual(['Region under attack']);
    // once per episode
    await wb.send('grid-node', 'quiet', status('normal'));
    expect(wb.alerts).toHaveLength(1);
  });
});
