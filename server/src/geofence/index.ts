/** Geofences: named polygons and circles, ENTER / EXIT / DWELL per twin, alarms on request. */
export { Geofences, MAX_GEOFENCES } from './geofences.js';
export type { GeofencesOptions } from './geofences.js';
export { geofenceFeature } from './feature.js';
export { parseGeofence, parseShape, compileFence, drawable } from './fence.js';
export type { Fence, FenceShape, FenceAlarm, GeofenceSpec } from './fence.js';
export { FenceIndex } from './fence-index.js';
export { FenceTracker } from './tracker.js';
export type { FenceEvent, TrackerClock } from './tracker.js';
