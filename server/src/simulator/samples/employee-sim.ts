/**
 * The demo's office as a simulation model: each instance is one employee's phone, with the roster
 * of the `employee` fleet (department, desk). It introduces the employee, then every 20 simulated
 * minutes reports meeting someone who is in (mostly of the same department). When the employee's
 * twin sends `quarantine` (a contact tested positive), `process` sends them home and they meet
 * no one for 14 days.
 */
import { defineModel, type JsonValue } from '@hextwin/shared';
import { OfficeFleet } from '@hextwin/server/simulator/office-fleet';

interface EmployeeSimState {
  index: number;
  introduced: boolean;
}

export function employeeSimulation(options: { count?: number; seed?: number | string; stepMs?: number; fleet?: OfficeFleet } = {}) {
  const count = options.fleet?.size ?? options.count ?? 200;
  // the roster, and who is at home until when, shared by every instance
  let office: OfficeFleet | undefined = options.fleet;
  return defineModel<EmployeeSimState, JsonValue>({
    name: 'employee-sim',
    description: 'simulated phones feeding employee twins; a quarantined employee stays home',
    init(id) {
      office ??= new OfficeFleet({ count, seed: options.seed ?? 1 });
      return { index: Number(id.slice(id.lastIndexOf('-') + 1)) - 1, introduced: false };
    },
    process(ctx, _s, commands) {
      for (const c of commands) office!.onCommand(ctx.id, c, ctx.now());
      return 'update';
    },
    simulate(ctx, s, now) {
      const e = office!.employees[s.index]!;
      if (!s.introduced) {
        s.introduced = true;
        ctx.emit({ type: 'init', department: e.department, location: e.location, lat: e.lat, lng: e.lng });
        return;
      }
      if (office!.atHome(s.index, now)) return;
      const other = office!.colleague(s.index, now);
      if (other >= 0) ctx.emit({ type: 'contact', otherId: office!.id(other), at: now });
    },
    simulation: { instances: count, idPrefix: 'emp', target: 'employee', stepMs: options.stepMs ?? 20 * 60_000 },
  });
}

export const employeeSim = employeeSimulation();
