/**
 * `Query.simulation`: the simulation this server runs, or, when none runs, the replay in progress
 * read as a simulation of the recorded time (`kind: REPLAY`); `replay` is the latest replay always.
 */
import type { SimulationSlot } from '../../../app/feature.js';

export function simulationStatus(slot: SimulationSlot, engineNow: number) {
  const replay = slot.replay?.status ?? null;
  const sim = slot.current;
  if (sim && (sim.status.running || !slot.replay?.status.running)) {
    const s = sim.status;
    const unbounded = s.speed === Infinity;
    const speed = unbounded ? (s.simTime - s.startTime) / Math.max(1, sim.wallMs) : s.speed;
    return { ...s, speed, unbounded, kind: 'SIMULATION' as const, replay };
  }
  const r = slot.replay;
  if (r?.status.running) {
    const s = r.status;
    const from = s.from ?? engineNow;
    const simTime = s.recordedTime ?? from;
    // speed 0 plays as fast as the server takes it: report the pace reached, as at SIMULATION_SPEED=max
    const unbounded = s.speed === 0;
    return {
      kind: 'REPLAY' as const,
      replay,
      running: true,
      speed: unbounded ? (simTime - from) / Math.max(1, r.wallMs) : s.speed,
      unbounded,
      simTime,
      instances: s.twins,
      startTime: s.from,
      endTime: s.to,
      progress: s.progress,
      steps: s.batches,
      emitted: s.sent,
    };
  }
  return { kind: 'NONE' as const, replay, running: false, speed: 1, unbounded: false, simTime: engineNow, instances: 0, steps: 0, emitted: 0 };
}
