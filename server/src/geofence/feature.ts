/**
 * The geofence feature: loads the fences, follows every twin's location from `twinChanged`, and
 * sends each ENTER / EXIT / DWELL to the sinks (sinks/hub.ts) and, for a fence with an alarm,
 * raises the twin's alarm on ENTER and clears it on EXIT. In a cluster every node tracks every
 * twin it hears of (so its subscribers see all events), but only the twin's owner exports the
 * event and touches the alarm, so each happens once.
 */
import { Counter, Gauge } from 'prom-client';
import type { Feature } from '../app/feature.js';
import { sinkTopics } from '../sinks/hub.js';
import type { FenceEvent } from './tracker.js';

export const geofenceFeature: Feature = {
  name: 'geofence',
  async start(ctx) {
    const geofences = ctx.geofences;
    if (!geofences) return;
    const { engine, logger } = ctx;
    geofences.load();
    const events = new Counter({
      name: 'hextwin_geofence_events_total',
      help: 'Geofence events by type (ENTER, EXIT, DWELL), of the twins this node owns',
      labelNames: ['type'],
      registers: [ctx.metrics],
    });
    new Gauge({
      name: 'hextwin_geofences',
      help: 'Geofences loaded (GEOFENCES_FILE and created over GraphQL)',
      registers: [ctx.metrics],
      collect() {
        this.set(geofences.tracker.count);
      },
    });
    new Gauge({
      name: 'hextwin_geofence_twins_inside',
      help: 'Twins inside at least one geofence',
      registers: [ctx.metrics],
      collect() {
        this.set(geofences.tracker.inside);
      },
    });
    const sinks = sinkTopics(engine);
    const onEvent = (e: FenceEvent) => {
      if (engine.hosts && !engine.hosts(e.model, e.twinId)) return;
      events.labels(e.type).inc();
      sinks.emit('geofence', {
        fence: e.fence.name,
        model: e.model,
        twinId: e.twinId,
        type: e.type,
        at: e.at,
        lat: e.lat,
        lng: e.lng,
        ...(e.dwellMs !== undefined ? { dwellMs: e.dwellMs } : {}),
      });
      const alarm = e.fence.alarm;
      if (!alarm) return;
      if (e.type === 'ENTER')
        engine.raiseAlert?.(e.model, e.twinId, {
          severity: alarm.severity,
          type: alarm.type,
          title: `${e.twinId} entered ${e.fence.name}`,
          message: `${e.model}/${e.twinId} is inside the geofence ${JSON.stringify(e.fence.name)}`,
          data: { fence: e.fence.name, lat: e.lat, lng: e.lng },
        });
      else if (e.type === 'EXIT') engine.clearAlertByType?.(e.model, e.twinId, alarm.type);
    };
    const offs = [geofences.on(onEvent)];
    // until the engine is ready its twins are being restored: their stays are taken quietly then
    const seed = () => {
      let n = 0;
      for (const m of engine.models())
        for (const t of engine.twins(m.name)) {
          geofences.tracker.moved(t.model, t.id, t.lat, t.lng, true);
          n++;
        }
      logger.debug({ twins: n, inside: geofences.tracker.inside }, 'geofence memberships restored');
    };
    let live = false;
    offs.push(
      engine.on('twinChanged', ({ twin }) => {
        if (live) geofences.tracker.moved(twin.model, twin.id, twin.lat, twin.lng);
      }),
      engine.on('twinRemoved', ({ model, id }) => geofences.tracker.forget(model, id)),
    );
    const goLive = () => {
      if (live) return;
      seed();
      live = true;
    };
    if (engine.ready) goLive();
    else offs.push(engine.on('ready', goLive));
    return {
      async stop() {
        for (const off of offs) off();
      },
    };
  },
};
