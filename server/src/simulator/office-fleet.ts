/**
 * An office of `employee`s in a large US city whose phones report who they meet: mostly colleagues
 * of their own department, sometimes anyone. Each employee's init message gives their department
 * and desk location. An employee told to quarantine stays home (meets no one) for 14 days.
 */
import type { JsonValue } from '@hextwin/shared';
import type { Fleet, WireEnvelope } from './fleet.js';
import { Cursor, paddedId } from './fleet.js';
import { metroCentres } from './cities.js';
import { offsetKm, round5 } from './geo.js';
import { Random } from './random.js';

const DAY = 24 * 60 * 60_000;
export const DEPARTMENTS = ['engineering', 'sales', 'support', 'finance', 'operations'] as const;
const FLOORS = 4;

export interface Employee {
  id: string;
  department: (typeof DEPARTMENTS)[number];
  /** where in the office they sit */
  location: string;
  lat: number;
  lng: number;
}

export class OfficeFleet implements Fleet {
  readonly model = 'employee';
  /** a phone reports a meeting far less often than a grid node reports its status */
  readonly rateShare = 0.05;
  readonly size: number;
  readonly setupSize: number;
  /** the city the office is in */
  readonly city: string;
  readonly employees: Employee[] = [];
  private readonly byDepartment = new Map<string, number[]>();
  private readonly byId = new Map<string, number>();
  private readonly homeUntil: Float64Array;
  private readonly rng: Random;
  private readonly cursor: Cursor;

  constructor(options: { count: number; seed: number | string }) {
    const r = Random.derive(options.seed, 'employee/roster');
    const town = r.pick(metroCentres(10));
    this.city = `${town.name}, ${town.state}`;
    const building = offsetKm(town, r.range(-3, 3), r.range(-3, 3));
    this.size = options.count;
    this.setupSize = options.count;
    for (let i = 0; i < this.size; i++) {
      const department = r.pick(DEPARTMENTS);
      const id = paddedId('emp', i, this.size);
      // desks spread over a building about 100 m across
      const desk = offsetKm(building, r.range(-0.05, 0.05), r.range(-0.05, 0.05));
      const floor = 1 + (DEPARTMENTS.indexOf(department) % FLOORS);
      this.employees.push({ id, department, location: `${town.name} office, floor ${floor}`, lat: round5(desk.lat), lng: round5(desk.lng) });
      this.byId.set(id, i);
      const members = this.byDepartment.get(department) ?? [];
      members.push(i);
      this.byDepartment.set(department, members);
    }
    this.homeUntil = new Float64Array(this.size);
    this.cursor = new Cursor(this.size);
    this.rng = Random.derive(options.seed, 'employee/meetings');
  }

  id(index: number): string {
    return this.employees[index]!.id;
  }

  /** Each employee's department and desk. */
  setup(): WireEnvelope[] {
    return this.employees.map((e) => ({
      model: this.model,
      id: e.id,
      message: { type: 'init', department: e.department, location: e.location, lat: e.lat, lng: e.lng },
    }));
  }

  next(t: number): WireEnvelope | undefined {
    if (this.size < 2) return undefined;
    const i = this.cursor.advance((j) => this.homeUntil[j]! <= t);
    if (i < 0) return undefined;
    const other = this.colleague(i, t);
    return other < 0 ? undefined : this.contact(i, other, t);
  }

  /** A contact message: employee `index` met employee `other` at t. */
  contact(index: number, other: number, t: number): WireEnvelope {
    return { model: this.model, id: this.id(index), message: { type: 'contact', otherId: this.id(other), at: t } };
  }

  positiveTest(index: number, t: number): WireEnvelope {
    return { model: this.model, id: this.id(index), message: { type: 'positiveTest', at: t } };
  }

  /** Someone at the office for employee `index` to meet at t, or -1 when no one is in. */
  colleague(index: number, t: number): number {
    const r = this.rng;
    const department = this.byDepartment.get(this.employees[index]!.department)!;
    for (let tries = 0; tries < 20; tries++) {
      const other = department.length > 1 && r.chance(0.7) ? r.pick(department) : r.int(this.size);
      if (other !== index && this.homeUntil[other]! <= t) return other;
    }
    return -1;
  }

  atHome(index: number, t: number): boolean {
    return this.homeUntil[index]! > t;
  }

  /** A `quarantine` command keeps the employee at home for 14 days. */
  onCommand(id: string, command: JsonValue, t: number): void {
    const index = this.byId.get(id);
    if (index === undefined) return;
    if (typeof command === 'object' && command !== null && !Array.isArray(command) && command.type === 'quarantine') this.homeUntil[index] = t + 14 * DAY;
  }
}
