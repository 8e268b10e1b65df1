import { mkdtempSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineModel } from '@hextwin/shared';
import { startEngine } from './helpers.js';
import { parseReference } from '../../src/engine/reference-data.js';

function turbineModel(file: string, precreate = false) {
  return defineModel<{ model: string | null; limit: number | null }, object>({
    name: 'turbine',
    init: (_id, ctx) => ({ model: (ctx.reference?.turbineModel as string) ?? null, limit: null }),
    process(ctx, s) {
      s.limit = (ctx.reference?.limit as number) ?? null;
      return 'update';
    },
    reference: { file, idField: 'id', precreate },
  });
}

describe('Reference data', () => {
  it('parses CSV with typed cells and JSON keyed by id', () => {
    const csv = parseReference('id,turbineModel,limit,active\nT1,A,90,true\nT2,B,,false\n', 'csv', 'id', 'x.csv');
    expect(csv.get('T1')).toEqual({ id: 'T1', turbineModel: 'A', limit: 90, active: true });
    expect(csv.get('T2')).toEqual({ id: 'T2', turbineModel: 'B', limit: null, active: false });
    const json = parseReference('{"T9": {"driver": {"name": "Ann"}}}', 'json', 'id', 'x.json');
    expect(json.get('T9')).toEqual({ id: 'T9', driver: { name: 'Ann' } });
  });

  it('gives init and process the row of their twin, and precreates twins from it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-ref-'));
    const file = path.join(dir, 'turbines.csv');
    writeFileSync(file, 'id,turbineModel,limit\nT1,A,90\nT2,C,150\n');
    const { engine } = await startEngine([turbineModel(file, true)]);
    expect(engine.twinCount('turbine')).toBe(2);
    expect(engine.twin('turbine', 'T2')!.state).toEqual({ model: 'C', limit: null });
    await engine.ingest([{ model: 'turbine', id: 'T1', message: {} }]);
    await engine.idle();
    expect(engine.twin('turbine', 'T1')!.state).toEqual({ model: 'A', limit: 90 });
    await engine.stop();
  });

  it('reloads the file when it changes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-ref-'));
    const file = path.join(dir, 'turbines.csv');
    writeFileSync(file, 'id,turbineModel,limit\nT1,A,90\n');
    const { engine } = await startEngine([turbineModel(file)]);
    writeFileSync(file, 'id,turbineModel,limit\nT1,A,75\n');
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    const deadline = Date.now() + 10_000;
    for (;;) {
      await engine.ingest([{ model: 'turbine', id: 'T1', message: {} }]);
      await engine.idle();
      if ((engine.twin('turbine', 'T1')!.state as { limit: number }).limit === 75) break;
      if (Date.now() > deadline) throw new Error('reference data was not reloaded within 10 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    await engine.stop();
  });
});
