/**
 * `grid-node`: security status tracker of one power-grid node. Turns reported conditions into an
 * alert level (0–20) that weighs the node's history: a node that has had a severe incident is
 * taken more seriously, one that cries wolf less. A node silent for more than 5 minutes becomes
 * `unreachable` until its next message. Each message also re-reads its region's count of severe nodes
 * (the `severeByRegion` aggregate, fed back every 5 s): from REGION_SEVERE_NODES on, the node's level
 * is at least WARNING (`regionAlarm`) and one WARNING alert marks the start.
 */
import { defineModel, eventTime, pushBounded, Severity, type TwinContext } from '@hextwin/shared';
import { latSchema, lngSchema, nullable, timestampSchema } from './schema.js';

export const NodeType = { infrastructure: 'infrastructure', controller: 'controller' } as const;
export type NodeType = (typeof NodeType)[keyof typeof NodeType];

export const REPORTED_CONDITIONS = ['normal', 'offline', 'minor', 'moderate', 'severe'] as const;
export type ReportedCondition = (typeof REPORTED_CONDITIONS)[number];
export type Condition = ReportedCondition | 'unknown' | 'unreachable';

export type GridNodeMessage =
  | { type: 'init'; nodeType: NodeType; region: string; lat: number; lng: number; timestamp?: number | string }
  | { type: 'status'; condition: ReportedCondition; timestamp?: number | string };

export interface Incident {
  time: number;
  condition: 'minor' | 'moderate' | 'severe';
}

export interface GridNodeState {
  nodeType: NodeType;
  region: string | null;
  lat: number | null;
  lng: number | null;
  condition: Condition;
  /** the last condition the node itself reported (what `unreachable` hides, and what the next status is judged against) */
  reportedCondition: ReportedCondition | 'unknown';
  alertLevel: number;
  minorCount: number;
  moderateCount: number;
  severeCount: number;
  falseAlarms: number;
  resolved: number;
  totalIncidents: number;
  /** the 10 most recent incidents, oldest first */
  incidents: Incident[];
  /** time of the latest message (its timestamp, or the engine's at receipt), epoch ms */
  lastSeen: number | null;
  /** severe nodes in this node's region, as the `severeByRegion` aggregate last told it */
  regionSevere: number;
  /** the region has at least REGION_SEVERE_NODES severe nodes: the node's level is at least WARNING */
  regionAlarm: boolean;
}

/** Severe nodes in one region that raise every node of the region to WARNING (a coordinated attack). */
export const REGION_SEVERE_NODES = 3;

export const SILENCE_MS = 5 * 60_000;
export const MAX_INCIDENTS = 10;
const SILENCE_TIMER = 'silence';

/** Alert level of a moderate incident, judged on the history before counting it. */
function moderateLevel(s: GridNodeState): number {
  const infra = s.nodeType === NodeType.infrastructure;
  let k: number;
  if (s.severeCount > 0) k = infra ? 1 : 3;
  else if (s.falseAlarms === 0) k = infra ? 2 : 4;
  else if (s.falseAlarms / Math.max(1, s.moderateCount) >= 0.5) k = infra ? 3 : 5;
  else k = infra ? 4 : 6;
  return (infra ? 4 : 8) + k;
}

function applyStatus(ctx: TwinContext, s: GridNodeState, condition: ReportedCondition, t: number): void {
  const previous = s.reportedCondition;
  const infra = s.nodeType === NodeType.infrastructure;
  switch (condition) {
    case 'normal':
    case 'offline':
      // the incident that was open ends here: minor and moderate ones turned out to be false alarms
      if (previous === 'minor' || previous === 'moderate') {
        s.falseAlarms += 1;
        s.resolved += 1;
      } else if (previous === 'severe') {
        s.resolved += 1;
      }
      s.alertLevel = 0;
      break;
    case 'minor':
      s.alertLevel = infra ? 1 : 2;
      s.minorCount += 1;
      break;
    case 'moderate':
      s.alertLevel = moderateLevel(s); // before moderateCount counts this incident
      s.moderateCount += 1;
      break;
    case 'severe':
      s.alertLevel = infra ? 10 : 20;
      s.severeCount += 1;
      break;
  }
  if (condition === 'minor' || condition === 'moderate' || condition === 'severe') {
    s.totalIncidents += 1;
    pushBounded(s.incidents, { time: t, condition }, MAX_INCIDENTS);
  }
  // alerts on entering a level only, not on every report at that level
  if (condition === 'severe' && previous !== 'severe') {
    ctx.alert({
      severity: Severity.CRITICAL,
      title: 'Severe security incident',
      message: `${s.nodeType} node in ${s.region ?? 'unknown region'} reports a severe incident (alert level ${s.alertLevel})`,
      data: { condition, alertLevel: s.alertLevel, region: s.region, nodeType: s.nodeType, time: t },
    });
  } else if (condition === 'moderate' && previous !== 'moderate') {
    ctx.alert({
      severity: Severity.WARNING,
      title: 'Moderate security incident',
      message: `${s.nodeType} node in ${s.region ?? 'unknown region'} reports a moderate incident (alert level ${s.alertLevel})`,
      data: { condition, alertLevel: s.alertLevel, region: s.region, nodeType: s.nodeType, time: t },
    });
  }
  s.reportedCondition = condition;
  s.condition = condition;
}

/** Re-judge the region from the latest aggregate; a WARNING alert when the region's alarm starts. */
function judgeRegion(ctx: TwinContext, s: GridNodeState): void {
  if (s.region === null) return;
  const severe = ctx.aggregate('severeByRegion', s.region)?.count ?? 0;
  const alarm = severe >= REGION_SEVERE_NODES;
  if (alarm && !s.regionAlarm) {
    ctx.alert({
      severity: Severity.WARNING,
      title: 'Region under attack',
      message: `${severe} nodes in ${s.region} report severe incidents`,
      data: { kind: 'regionAlarm', region: s.region, severeNodes: severe },
    });
  }
  s.regionSevere = severe;
  s.regionAlarm = alarm;
}

export const gridNode = defineModel<GridNodeState, GridNodeMessage>({
  name: 'grid-node',
  // the region's count of severe nodes, fed back to every node of the region
  aggregates: {
    severeByRegion: { model: 'grid-node', where: { field: 'condition', op: 'EQ', value: 'severe' }, groupBy: 'region', everyMs: 5_000 },
  },
  description: 'Power-grid node security tracker: alert level from reported incidents and their history.',
  init: () => ({
    nodeType: NodeType.infrastructure, // until an init message says otherwise
    region: null,
    lat: null,
    lng: null,
    condition: 'unknown',
    reportedCondition: 'unknown',
    alertLevel: 0,
    minorCount: 0,
    moderateCount: 0,
    severeCount: 0,
    falseAlarms: 0,
    resolved: 0,
    totalIncidents: 0,
    incidents: [],
    lastSeen: null,
    regionSevere: 0,
    regionAlarm: false,
  }),
  process(ctx, state, messages) {
    for (const m of messages) {
      const t = eventTime(m.timestamp) ?? ctx.now();
      state.lastSeen = t;
      // any message proves the node reachable again
      if (state.condition === 'unreachable') state.condition = state.reportedCondition;
      if (m.type === 'init') {
        state.nodeType = m.nodeType;
        state.region = m.region;
        state.lat = m.lat;
        state.lng = m.lng;
      } else {
        applyStatus(ctx, state, m.condition, t);
      }
    }
    // silence is measured on the engine clock; the timer fires just past 5 minutes ("more than 5 minutes")
    ctx.startTimer(SILENCE_TIMER, SILENCE_MS + 1, 'once');
    judgeRegion(ctx, state);
    return 'update';
  },
  onTimer(ctx, state, timer) {
    if (timer !== SILENCE_TIMER || state.condition === 'unreachable') return 'none';
    state.condition = 'unreachable';
    ctx.alert({
      severity: Severity.WARNING,
      title: 'Node unreachable',
      message: `no message for more than 5 minutes from ${state.nodeType} node in ${state.region ?? 'unknown region'}`,
      data: { lastSeen: state.lastSeen, region: state.region, nodeType: state.nodeType },
    });
    return 'update';
  },
  location: (s) => (s.lat !== null && s.lng !== null ? { lat: s.lat, lng: s.lng } : undefined),
  // the alert level bands the operators use, and the condition itself (a severe incident is critical at once)
  level: (s) => {
    if (s.alertLevel >= 10 || s.condition === 'severe') return Severity.CRITICAL;
    if (s.alertLevel >= 4 || s.condition === 'moderate' || s.condition === 'unreachable' || s.regionAlarm) return Severity.WARNING;
    if (s.alertLevel > 0 || s.condition === 'minor' || s.condition === 'offline') return Severity.INFO;
    return undefined;
  },
  messageSchema: {
    type: 'object',
    // the fields first, then which are required for each message type
    allOf: [
      {
        required: ['type'],
        properties: {
          type: { enum: ['init', 'status'] },
          nodeType: { enum: [NodeType.infrastructure, NodeType.controller] },
          region: { type: 'string' },
          lat: latSchema,
          lng: lngSchema,
          condition: { enum: [...REPORTED_CONDITIONS] },
          timestamp: timestampSchema,
        },
      },
      { if: { properties: { type: { const: 'init' } } }, then: { required: ['nodeType', 'region', 'lat', 'lng'] } },
      { if: { properties: { type: { const: 'status' } } }, then: { required: ['condition'] } },
    ],
  },
  stateSchema: {
    type: 'object',
    properties: {
      nodeType: { enum: [NodeType.infrastructure, NodeType.controller] },
      region: nullable('string'),
      lat: nullable('number'),
      lng: nullable('number'),
      condition: { enum: [...REPORTED_CONDITIONS, 'unknown', 'unreachable'] },
      reportedCondition: { enum: [...REPORTED_CONDITIONS, 'unknown'] },
      alertLevel: { type: 'integer', minimum: 0, maximum: 20 },
      minorCount: { type: 'integer' },
      moderateCount: { type: 'integer' },
      severeCount: { type: 'integer' },
      falseAlarms: { type: 'integer' },
      resolved: { type: 'integer' },
      totalIncidents: { type: 'integer' },
      incidents: {
        type: 'array',
        items: { type: 'object', properties: { time: { type: 'number' }, condition: { type: 'string' } } },
      },
      lastSeen: nullable('number'),
      regionSevere: { type: 'integer', minimum: 0 },
      regionAlarm: { type: 'boolean' },
    },
  },
});
