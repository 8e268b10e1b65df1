/** The index and analytics layer: what the API uses. */
export { TwinIndex, type LiveAggregateHandle } from './twin-index.js';
export { ModelIndex, type SlotListener, type CellCover } from './model-index.js';
export { cellCover } from './dispatch.js';
export { compileFilter, FilterOps, type TwinFilter, type GeoFilter, type FilterOp, type Predicate } from './filter.js';
export { DEFAULT_PAGE, MAX_PAGE, type FindOptions, type TwinPage } from './find.js';
export type { TwinOrder } from './ordering.js';
export { tooManyGroups, type Group, type HexBin, type AggregateSpec, type HexAggregateSpec } from './aggregate.js';
export { MetricOps, type MetricInput, type MetricOp } from './metric.js';
export { LiveAggregate, type LiveAggregateSpec } from './live-aggregate.js';
export { Feed } from './feed.js';
export { TwinChangeFeed, ChangeKind, type TwinChangeEvent } from './live-twins.js';
export { cellKeyAt, packCell, unpackCell, MAX_RESOLUTION } from './geo.js';
export { AggregateFeedback } from './feedback.js';
