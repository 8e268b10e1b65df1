export type { TwinKey } from './twin-key.js';
export { keyString, parseKeyString, twinHash } from './twin-key.js';
export { PARTITIONS, partition } from './partition.js';
export { ErrorCodes, HextwinError, isHextwinError, toCoded } from './errors.js';
export type { ErrorCode, ErrorBody } from './errors.js';
export type { JsonValue, JsonObject, JsonPrimitive } from './json.js';
export { defineModel, Severity, SEVERITY_RANK, isModelName, isTwinId, eventTime } from './model.js';
export type {
  ModelDefinition,
  TwinContext,
  MessageOrigin,
  SendOptions,
  InitContext,
  AlertInput,
  HistorySpec,
  ProcessResult,
  LogLevel,
  TimerMode,
  SharedData,
  ReferenceRow,
  ReferenceDataSpec,
  JsonSchema,
  SimulationContext,
  SimulationSpec,
  AggregateGroup,
  AggregateSpec,
  RecordSpec,
} from './model.js';
export { tumblingWindows, slidingWindows, sessionWindows, RingBuffer, pushBounded } from './windows.js';
export type { Window } from './windows.js';
export { EARTH_RADIUS_KM, haversineKm, haversineKmBetween } from './geo.js';
export type { LatLng } from './geo.js';
export { spikeDetector, changePointDetector, ewmaDetector, rateOfChangeDetector } from './detectors/index.js';
export type {
  Detection,
  Detector,
  SpikeOptions,
  SpikeState,
  SpikeDetection,
  ChangePointOptions,
  ChangePointState,
  ChangePointDetection,
  EwmaOptions,
  EwmaState,
  EwmaDetection,
  RateOfChangeOptions,
  RateOfChangeState,
  RateOfChangeDetection,
} from './detectors/index.js';
