/**
 * A node's copy of partitions other nodes own, fed through a real (in-process) transport by an
 * owner's event fan-out, with snapshots from the owner when it needs to catch up.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { MemoryBus, MemoryTransport } from '../../src/cluster/memory-transport.js';
import { EventFanout, snapOf } from '../../src/cluster/events.js';
import { ClusterView, type Snapshot, type ViewEvents } from '../../src/cluster/cluster-view.js';
import { pack } from '../../src/cluster/codec.js';
import type { AlertRecord, CommandRecord, TwinView } from '../../src/engine/types.js';

const log = pino({ level: 'silent' });

class OwnerTwin implements TwinView {
  lat = undefined;
  lng = undefined;
  createdAt = 1;
  updatedAt = 1;
  version = 1;
  lastError = null;
  constructor(
    readonly model: string,
    readonly id: string,
    public state: unknown,
  ) {}
  change(state: unknown): this {
    this.state = state;
    this.version++;
    this.updatedAt++;
    return this;
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function setup() {
  const bus = new MemoryBus();
  const owner = new MemoryTransport(bus);
  const reader = new MemoryTransport(bus);
  const fanout = new EventFanout(
    owner,
    'ev.owner',
    'owner',
    1 << 20,
    (e) => {
      throw e;
    },
    0,
  );
  const twins = new Map<string, OwnerTwin>();
  const commands: CommandRecord[] = [];
  let snapshots = 0;
  const heard: string[] = [];
  const events: ViewEvents = {
    twinChanged: (t, created) => heard.push(`${created ? 'new' : 'changed'} ${t.id} ${JSON.stringify(t.state)}`),
    twinRemoved: (_m, id) => heard.push(`removed ${id}`),
    alert: (a, live) => heard.push(`${live ? 'alert' : 'old alert'} ${a.id}`),
    alertAcknowledged: (id) => heard.push(`ack ${id}`),
    command: (r) => heard.push(`command ${r.cid}`),
  };
  const epochOf = { value: 1 };
  const view = new ClusterView(
    'reader',
    events,
    async (p): Promise<Snapshot> => {
      snapshots++;
      fanout.flush();
      const pos = fanout.position(p)!;
      return { epoch: pos.epoch, seq: pos.seq, twins: [...twins.values()].map(snapOf), alerts: [], commands };
    },
    log,
  );
  reader.subscribe('ev.*', (d) => view.onBatch(d));
  return { owner, fanout, twins, commands, view, heard, snapshots: () => snapshots, epochOf };
}

describe('Cluster view', () => {
  it("copies a partition from its owner's snapshot, then follows its events in order", async () => {
    const s = setup();
    s.twins.set('a', new OwnerTwin('m', 'a', { n: 1 }));
    s.fanout.register(5, 10);
    await until(() => s.view.twin(5, 'm', 'a') !== undefined, 'the snapshot');
    expect(s.view.twin(5, 'm', 'a')!.state).toEqual({ n: 1 });
    for (let n = 2; n <= 4; n++) s.fanout.twinChanged(5, s.twins.get('a')!.change({ n }), false);
    const b = new OwnerTwin('m', 'b', { n: 9 });
    s.twins.set('b', b);
    s.fanout.twinChanged(5, b, true);
    await until(() => s.view.twin(5, 'm', 'b') !== undefined, 'the new twin');
    expect(s.view.twin(5, 'm', 'a')!.state).toEqual({ n: 4 });
    expect(s.view.count('m')).toBe(2);
    expect(s.snapshots()).toBe(1);
    // the three changes of `a` in one turn went out as one (conflated)
    expect(s.heard).toEqual(['new a {"n":1}', 'changed a {"n":4}', 'new b {"n":9}']);
  });

  it('fetches a snapshot again when a message went missing', async () => {
    const s = setup();
    s.twins.set('a', new OwnerTwin('m', 'a', { n: 1 }));
    s.fanout.register(3, 1);
    await until(() => s.view.isSynced(3), 'the first snapshot');
    // a section numbered past what the reader has seen: something was lost in between
    s.twins.get('a')!.change({ n: 7 });
    s.owner.publish('ev.owner', pack(['owner', [pack([3, 1, 50, []])]]));
    await until(() => s.snapshots() === 2, 'a second snapshot');
    await until(() => (s.view.twin(3, 'm', 'a')!.state as { n: number }).n === 7, 'the caught-up copy');
  });

  it("replaces the copy with a new owner's, and ignores the old owner from then on", async () => {
    const s = setup();
    s.twins.set('a', new OwnerTwin('m', 'a', { n: 1 }));
    s.twins.set('b', new OwnerTwin('m', 'b', { n: 1 }));
    s.fanout.register(9, 1);
    await until(() => s.view.count() === 2, 'the first owner');
    // a new owner (higher epoch) restored a state without `b`
    s.twins.delete('b');
    s.fanout.register(9, 2);
    await until(() => s.view.count() === 1, 'the new owner');
    expect(s.heard).toContain('removed b');
    // a late message of the old owner changes nothing
    s.owner.publish('ev.owner', pack(['owner', [pack([9, 1, 1, [['t', snapOf(new OwnerTwin('m', 'z', {})), 1]]])]]));
    await s.owner.flush();
    await new Promise((r) => setImmediate(r));
    expect(s.view.twin(9, 'm', 'z')).toBeUndefined();
  });

  it('keeps pending commands and passes alerts on', async () => {
    const s = setup();
    s.fanout.register(1, 1);
    await until(() => s.view.isSynced(1), 'the snapshot');
    const cmd: CommandRecord = { cid: 'c1', model: 'm', id: 'a', command: { go: true }, at: 1 };
    const alert: AlertRecord = { id: 'x1', model: 'm', twinId: 'a', severity: 'ERROR', title: 't', message: null, at: 1, acknowledged: false, data: null };
    s.fanout.event(1, ['c', cmd, { connector: 'ws', node: 'reader' }]);
    s.fanout.event(1, ['a', alert]);
    s.fanout.event(1, ['k', 'x1']);
    await until(() => s.heard.includes('ack x1'), 'the acknowledgement');
    expect(s.view.pendingCommands(1, 'm', 'a')).toEqual([cmd]);
    expect(s.heard).toEqual(['command c1', 'alert x1', 'ack x1']);
    s.fanout.event(1, ['x', 'm', 'a', ['c1']]);
    await until(() => s.view.pendingCommands(1, 'm', 'a').length === 0, 'the command acknowledged');
  });

  it('holds nothing for a partition this node owns, and keeps serving it for a while after giving it up', async () => {
    const s = setup();
    s.twins.set('a', new OwnerTwin('m', 'a', { n: 1 }));
    s.fanout.register(4, 1);
    await until(() => s.view.count() === 1, 'the snapshot');
    const taken = s.view.takeLocal(4);
    expect([...taken.get('m')!.keys()]).toEqual(['a']);
    expect(s.view.count()).toBe(0);
    expect(s.view.isLocal(4)).toBe(true);
    s.view.releaseLocal(4, 3, [new OwnerTwin('m', 'a', { n: 5 })], []);
    expect(s.view.twin(4, 'm', 'a')!.state).toEqual({ n: 5 });
  });
});
