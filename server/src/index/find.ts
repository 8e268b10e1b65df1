/** The `twins` query over one model's index: filter, order, a page after a cursor, and the total. */
import { HextwinError } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';
import type { ModelIndex } from './model-index.js';
import { compileFilter, type TwinFilter } from './filter.js';
import { compileOrdering, type TwinOrder } from './ordering.js';
import { TopK } from './top-k.js';
import { scanSliced } from './slices.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1_000;

export interface FindOptions {
  where?: TwinFilter | null;
  orderBy?: readonly TwinOrder[] | null;
  first?: number | null;
  after?: string | null;
}

export interface TwinPage {
  /** twins matching `where` (all pages) */
  totalCount: number;
  edges: { cursor: string; node: TwinView }[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** The scan of a `twins` query: `step` over slot ranges (in one go or in slices), then `finish`. */
function findScan(index: ModelIndex, opts: FindOptions): { step(from: number, to: number): void; finish(): TwinPage } {
  const first = opts.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw new HextwinError('BAD_REQUEST', `first must be a whole number from 0 to ${MAX_PAGE}`);
  const pred = compileFilter(opts.where, index);
  const ordering = compileOrdering(opts.orderBy);
  const cursor = opts.after ? ordering.parseCursor(opts.after) : null;
  // one more than asked, to know whether another page follows
  const top = new TopK<TwinView>(first + 1, ordering.compare);
  let total = 0;
  return {
    step(from, to) {
      const views = index.views;
      for (let s = from; s < to; s++) {
        const t = views[s];
        if (t === undefined || !pred(t, s)) continue;
        total++;
        if (cursor && ordering.compareToCursor(t, cursor) <= 0) continue;
        top.push(t);
      }
    },
    finish() {
      const items = top.sorted();
      const hasNextPage = items.length > first;
      if (hasNextPage) items.length = first;
      const edges = items.map((node) => ({ cursor: ordering.cursorOf(node), node }));
      return { totalCount: total, edges, hasNextPage, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null };
    },
  };
}

export function findTwins(index: ModelIndex, opts: FindOptions): TwinPage {
  const scan = findScan(index, opts);
  scan.step(0, index.end);
  return scan.finish();
}

/** `findTwins` in slices that give the event loop back (see slices.ts). */
export async function findTwinsSliced(index: ModelIndex, opts: FindOptions): Promise<TwinPage> {
  const scan = findScan(index, opts);
  await scanSliced(() => index.end, scan.step);
  return scan.finish();
}
