import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WireEnvelope } from './fleet.js';
import type { DeviceCommand, Sender } from './sender.js';
import { emptyStats } from './sender.js';
import { Simulator } from './simulator.js';
import { World } from './world.js';

const T0 = Date.parse('2025-06-01T00:00:00Z');
const logger = pino({ level: 'silent' });

/** Keeps what it is given, acknowledges at once, and lets the test push commands back. */
class CaptureSender implements Sender {
  readonly stats = emptyStats();
  readonly messages: WireEnvelope[] = [];
  readonly batches: number[] = [];
  private listeners: ((c: DeviceCommand) => void)[] = [];
  async send(batch: WireEnvelope[]): Promise<void> {
    this.messages.push(...batch);
    this.batches.push(batch.length);
    this.stats.sent += batch.length;
    this.stats.acked += batch.length;
  }
  async flush(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
  onCommand(l: (c: DeviceCommand) => void): void {
    this.listeners.push(l);
  }
  command(c: DeviceCommand): void {
    for (const l of this.listeners) l(c);
  }
}

const size = { 'grid-node': 2_000, truck: 200, 'gas-sensor': 20, 'wind-turbine': 40, employee: 50 };

async function run(seed: string, scenarios: { name: string; atMessage?: number }[] = []) {
  const sender = new CaptureSender();
  const sim = new Simulator({ world: new World(seed, size), sender, rate: 1_000_000, speed: 60, start: T0, batch: 100, maxMessages: 6_000, scenarios, logger });
  await sim.run();
  return { sender, sim };
}

describe('Simulator', () => {
  it('makes the same messages for the same seed, scenarios included', async () => {
    const a = await run('7', [{ name: 'grid-attack', atMessage: 3_000 }]);
    const b = await run('7', [{ name: 'grid-attack', atMessage: 3_000 }]);
    expect(a.sender.messages.length).toBeGreaterThan(6_000);
    expect(b.sender.messages).toEqual(a.sender.messages);
    const c = await run('8', [{ name: 'grid-attack', atMessage: 3_000 }]);
    expect(c.sender.messages).not.toEqual(a.sender.messages);
  });

  it('sends the setup messages first, then every model, in batches no larger than asked', async () => {
    const { sender, sim } = await run('1');
    const setup = size['grid-node'] + size.truck + size['wind-turbine'] + size.employee;
    expect(sender.messages.slice(0, setup).every((m) => (m.message as { type?: string }).type === 'init')).toBe(true);
    expect(new Set(sender.messages.slice(setup).map((m) => m.model))).toEqual(new Set(['grid-node', 'truck', 'gas-sensor', 'wind-turbine', 'employee']));
    expect(Math.max(...sender.batches)).toBeLessThanOrEqual(100);
    expect(sim.stats.produced).toBe(6_000);
    expect(sender.messages).toHaveLength(6_000);
  });

  it('stamps event time from the message count, rate and speed (faster than real time)', async () => {
    const { sender } = await run('1');
    // 6,000 messages at 1,000,000/s and 60x: the last is 0.36 simulated seconds after the first
    const last = sender.messages.at(-1)!.message as { timestamp?: number; at?: number };
    expect(last.timestamp ?? last.at).toBe(T0 + Math.round((5_999 / 1_000_000) * 60 * 1000));
  });

  it('triggers a scheduled scenario once the devices are set up, its messages ahead of the stream', async () => {
    const { sender } = await run('1', [{ name: 'gas-leak' }]);
    const setup = size['grid-node'] + size.truck + size['wind-turbine'] + size.employee;
    const burst = sender.messages[setup]!;
    expect(burst.model).toBe('gas-sensor');
    expect((burst.message as { ppm: number }).ppm).toBeGreaterThan(50);
  });

  it('hands commands from twins to the simulated devices', async () => {
    const sender = new CaptureSender();
    const world = new World('1', { 'gas-sensor': 5 });
    const sim = new Simulator({ world, sender, rate: 1_000_000, start: T0, maxMessages: 10, logger });
    sim.trigger('gas-leak');
    const leaking = world.gas!.sensors.findIndex((_, i) => world.gas!.leaking(i, T0));
    sender.command({
      model: 'gas-sensor',
      id: world.gas!.id(leaking),
      command: { command: 'shutdown', description: 'Shutdown the incoming gas pipe', code: 100 },
    });
    expect(world.gas!.leaking(leaking, T0)).toBe(false);
  });

  it('paces messages at the rate asked for', async () => {
    const sender = new CaptureSender();
    const sim = new Simulator({ world: new World('1', { truck: 100 }), sender, rate: 2_000, start: T0, durationMs: 500, logger });
    await sim.run();
    // half a second at 2,000/s: at most 1,000 messages and the batch that was due last
    expect(sender.messages.length).toBeGreaterThan(0);
    expect(sender.messages.length).toBeLessThanOrEqual(1_100);
  });
});
