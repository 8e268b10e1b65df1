/** Streaming detectors for model code: options in the detector, plain-JSON state in the twin. */
export type { Detection, Detector } from './detector.js';
export { spikeDetector } from './spike.js';
export type { SpikeOptions, SpikeState, SpikeDetection } from './spike.js';
export { changePointDetector } from './change-point.js';
export type { ChangePointOptions, ChangePointState, ChangePointDetection } from './change-point.js';
export { ewmaDetector } from './ewma.js';
export type { EwmaOptions, EwmaState, EwmaDetection } from './ewma.js';
export { rateOfChangeDetector } from './rate-of-change.js';
export type { RateOfChangeOptions, RateOfChangeState, RateOfChangeDetection } from './rate-of-change.js';
