/**
 * The chart widgets the operator placed under the map ("title, model, chart type, field, operator,
 * group-by, filter", as in the commercial platform), remembered in localStorage.
 */
import type { MetricOp, ModelInfo } from '../graphql/types.ts';
import { MetricOps } from '../graphql/types.ts';
import { newId, type FilterNode } from '../util/filter-builder.ts';
import { Persisted } from './persisted.svelte.ts';

export const ChartTypes = ['line', 'area', 'bar', 'pie'] as const;
export type ChartType = (typeof ChartTypes)[number];

export interface WidgetDef {
  id: string;
  title: string;
  model: string;
  chart: ChartType;
  op: MetricOp;
  /** the state field the operator aggregates (absent for COUNT) */
  field: string | null;
  groupBy: string | null;
  filter: FilterNode | null;
}

function isWidget(v: unknown): v is WidgetDef {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Partial<WidgetDef>;
  return (
    typeof w.id === 'string' &&
    typeof w.title === 'string' &&
    typeof w.model === 'string' &&
    (ChartTypes as readonly string[]).includes(w.chart as string) &&
    (MetricOps as readonly string[]).includes(w.op as string) &&
    (w.field === null || typeof w.field === 'string') &&
    (w.groupBy === null || typeof w.groupBy === 'string') &&
    (w.filter === null || typeof w.filter === 'object')
  );
}

const isWidgetList = (v: unknown): v is WidgetDef[] => Array.isArray(v) && v.every(isWidget);

export class Widgets {
  #list = new Persisted<WidgetDef[]>('hextwin.widgets', [], isWidgetList);
  #seeded = new Persisted<boolean>('hextwin.widgets.seeded', false, (v): v is boolean => typeof v === 'boolean');

  /** On a first visit, starts the board with two useful charts for the largest model. */
  seed(models: readonly ModelInfo[]): void {
    if (this.#seeded.current) return;
    const m = models.find((x) => x.twinCount > 0);
    if (!m) return;
    this.#seeded.current = true;
    if (this.#list.current.length) return;
    this.add({ title: `${m.name} twins`, model: m.name, chart: 'area', op: 'COUNT', field: null, groupBy: null, filter: null });
    const group = ['condition', 'status', 'region', 'site', 'department'].find((f) => m.fields.some((x) => x.name === f));
    if (group) this.add({ title: `${m.name} by ${group}`, model: m.name, chart: 'bar', op: 'COUNT', field: null, groupBy: group, filter: null });
  }

  get list(): WidgetDef[] {
    return this.#list.current;
  }

  add(def: Omit<WidgetDef, 'id'>): WidgetDef {
    const w = { ...def, id: newId() };
    this.#list.current = [...this.#list.current, w];
    return w;
  }

  update(id: string, patch: Partial<Omit<WidgetDef, 'id'>>): void {
    this.#list.current = this.#list.current.map((w) => (w.id === id ? { ...w, ...patch } : w));
  }

  remove(id: string): void {
    this.#list.current = this.#list.current.filter((w) => w.id !== id);
  }
}
