/**
 * Alert webhooks: every alert a model raises is POSTed as JSON to the webhooks whose filter it
 * passes — how operators wire PagerDuty, Slack or their own services. Configured by the JSON file
 * named by ALERT_WEBHOOKS:
 *
 *   [ { "url": "https://hooks.example/alerts", "models": ["gas-sensor"], "minSeverity": "ERROR",
 *       "headers": { "authorization": "Bearer ..." }, "secret": "...", "name": "pager", "maxAttempts": 8, "retryBaseMs": 500 } ]
 *
 * Only `url` is required. A webhook gets an alarm when it is raised, when its severity changes and
 * when it is cleared; with `"repeats": true` also each repeat of an active alarm. The body is the
 * alarm as GraphQL shows it ({id, model, twinId, severity, title, message, at, acknowledged, data,
 * type, status, count, firstAt, lastAt, clearedAt, assignee}, times in ISO 8601) plus `event`:
 * "raise", "repeat", "severity" or "clear". Headers: `x-hextwin-event: alert` and
 * `x-hextwin-delivery`: the alert id for a raise, `<id>.<event>.<n>` for later changes (retries
 * repeat it, so a receiver can de-duplicate), and with a `secret` the signature header
 * `x-hextwin-signature` (webhook-sender.ts; how to verify it: docs/SECURITY.md). Redirects are not
 * followed. Deliveries, failed attempts and give-ups are counted in /metrics.
 *
 * Bodies wait in a durable queue (webhook-journal.ts, DATA_DIR/webhooks): a restart or a kill -9
 * drops none. In a cluster only the node that hosts the alarm's twin posts it, so each webhook
 * gets each alarm change once per cluster, not once per node.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { HextwinError, SEVERITY_RANK, Severity } from '@hextwin/shared';
import type { Feature } from '../app/feature.js';
import type { AlarmChange, AlertRecord } from '../engine/types.js';
import { LmdbWebhookJournal } from './webhook-journal.js';
import { WebhookSender, type WebhookTarget } from './webhook-sender.js';

export interface AlertWebhook extends WebhookTarget {
  /** only alerts of these models (all when absent) */
  models: string[] | null;
  minSeverity: Severity;
  /** also each repeat of an active alarm (default false: raise, severity change and clear) */
  repeats: boolean;
}

/** The lifecycle changes a webhook hears, and the `event` its body names. */
const EVENTS: Partial<Record<AlarmChange, string>> = { RAISE: 'raise', REPEAT: 'repeat', SEVERITY: 'severity', CLEAR: 'clear' };

const DEFAULTS = { maxAttempts: 8, retryBaseMs: 500, maxQueue: 1_000, timeoutMs: 10_000 };

/** Parse and check the ALERT_WEBHOOKS file; throws CONFIG_INVALID naming the entry and field at fault. */
export function loadAlertWebhooks(file: string): AlertWebhook[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HextwinError('CONFIG_INVALID', `ALERT_WEBHOOKS ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new HextwinError('CONFIG_INVALID', `ALERT_WEBHOOKS ${file}: expected a JSON array of {url, models?, minSeverity?}`);
  return parsed.map((raw: unknown, i: number) => {
    const where = `ALERT_WEBHOOKS ${file}: [${i}]`;
    const bad = (field: string, want: string) => new HextwinError('CONFIG_INVALID', `${where}.${field} must be ${want}`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HextwinError('CONFIG_INVALID', `${where} must be an object`);
    const e = raw as Record<string, unknown>;
    let url: URL;
    try {
      url = new URL(String(e.url));
    } catch {
      throw bad('url', 'an http(s) URL');
    }
    if (typeof e.url !== 'string' || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw bad('url', 'an http(s) URL');
    if (e.models !== undefined && !(Array.isArray(e.models) && e.models.every((m) => typeof m === 'string'))) throw bad('models', 'a list of model names');
    if (e.minSeverity !== undefined && !(typeof e.minSeverity === 'string' && e.minSeverity in Severity))
      throw bad('minSeverity', `one of ${Object.keys(Severity).join(', ')}`);
    if (e.headers !== undefined && !(typeof e.headers === 'object' && e.headers !== null && Object.values(e.headers).every((v) => typeof v === 'string')))
      throw bad('headers', 'an object of strings');
    if (e.name !== undefined && typeof e.name !== 'string') throw bad('name', 'a string');
    if (e.repeats !== undefined && typeof e.repeats !== 'boolean') throw bad('repeats', 'true or false');
    if (e.secret !== undefined && !(typeof e.secret === 'string' && e.secret.length >= 16)) throw bad('secret', 'a string of at least 16 characters');
    const int = (field: 'maxAttempts' | 'retryBaseMs' | 'maxQueue' | 'timeoutMs', min: number, max: number): number => {
      const v = e[field];
      if (v === undefined) return DEFAULTS[field];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(field, `a whole number from ${min} to ${max}`);
      return v;
    };
    return {
      name: (e.name as string | undefined) ?? url.host,
      url: e.url,
      headers: (e.headers as Record<string, string> | undefined) ?? {},
      models: (e.models as string[] | undefined) ?? null,
      minSeverity: (e.minSeverity as Severity | undefined) ?? 'INFO',
      repeats: e.repeats === true,
      maxAttempts: int('maxAttempts', 1, 100),
      retryBaseMs: int('retryBaseMs', 1, 3_600_000),
      maxQueue: int('maxQueue', 1, 1_000_000),
      timeoutMs: int('timeoutMs', 100, 600_000),
      ...(typeof e.secret === 'string' ? { secret: e.secret } : {}),
    };
  });
}

/** The JSON body of an alert, as GraphQL's Alert type shows it (with its lifecycle when the record has one). */
export function alertBody(a: AlertRecord): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: a.id,
    model: a.model,
    twinId: a.twinId,
    severity: a.severity,
    title: a.title,
    message: a.message,
    at: new Date(a.at).toISOString(),
    acknowledged: a.acknowledged,
    data: a.data,
  };
  if (a.change === undefined) return body;
  const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());
  return {
    ...body,
    event: EVENTS[a.change] ?? 'raise',
    type: a.type ?? null,
    status: a.status ?? 'ACTIVE',
    count: a.count ?? 1,
    firstAt: iso(a.firstAt ?? a.at),
    lastAt: iso(a.lastAt ?? a.at),
    clearedAt: iso(a.clearedAt),
    assignee: a.assignee ?? null,
  };
}

export function matches(w: AlertWebhook, a: AlertRecord): boolean {
  const change = a.change ?? 'RAISE';
  if (!(change in EVENTS) || (change === 'REPEAT' && !w.repeats)) return false;
  return SEVERITY_RANK[a.severity] >= SEVERITY_RANK[w.minSeverity] && (w.models === null || w.models.includes(a.model));
}

/** The alert id for a raise (as before the lifecycle), `<id>.<event>.<rev>` for a later change. */
export const deliveryId = (a: AlertRecord): string => ((a.change ?? 'RAISE') === 'RAISE' ? a.id : `${a.id}.${EVENTS[a.change!]}.${a.rev ?? 0}`);

export const alertWebhooksFeature: Feature = {
  name: 'alert-webhooks',
  async start(ctx) {
    const file = ctx.config.alertWebhooks;
    if (!file) return;
    const hooks = loadAlertWebhooks(file);
    const registers = [ctx.metrics];
    const deliveries = new Counter({
      name: 'hextwin_webhook_deliveries_total',
      help: 'Alert webhook bodies by outcome: delivered, or given up (exhausted, refused, dropped)',
      labelNames: ['webhook', 'result'],
      registers,
    });
    const failures = new Counter({
      name: 'hextwin_webhook_failed_attempts_total',
      help: 'Alert webhook POST attempts that failed (retried or not)',
      labelNames: ['webhook'],
      registers,
    });
    const journal = new LmdbWebhookJournal(path.join(ctx.config.dataDir, 'webhooks'));
    const senders = hooks.map(
      (w) =>
        new WebhookSender(
          w,
          {
            delivered: () => deliveries.labels(w.name, 'delivered').inc(),
            attemptFailed: (reason) => {
              failures.labels(w.name).inc();
              ctx.logger.warn({ webhook: w.name, reason }, 'alert webhook attempt failed');
            },
            gaveUp: (why) => {
              deliveries.labels(w.name, why).inc();
              ctx.logger.error({ webhook: w.name, why }, 'alert webhook gave up on an alert');
            },
          },
          journal,
        ),
    );
    new Gauge({
      name: 'hextwin_webhook_queue_depth',
      help: 'Alerts waiting for delivery by webhook',
      labelNames: ['webhook'],
      registers,
      collect() {
        for (const s of senders) this.set({ webhook: s.target.name }, s.depth);
      },
    });
    const engine = ctx.engine;
    const off = engine.on('alert', (a) => {
      // the twin's host posts it; other nodes hear the same alarm through the cluster's fan-out
      if (engine.hosts && !engine.hosts(a.model, a.twinId)) return;
      let body: Record<string, unknown> | undefined;
      for (let i = 0; i < hooks.length; i++) {
        if (!matches(hooks[i]!, a)) continue;
        body ??= alertBody(a);
        senders[i]!.enqueue(body, { 'x-hextwin-event': 'alert', 'x-hextwin-delivery': deliveryId(a) });
      }
    });
    // bodies owed for alerts of the cut are on disk before the log may forget the messages
    const offBarrier = engine.beforeCheckpointCommit?.(() => journal.flushed());
    ctx.logger.info({ webhooks: hooks.map((h) => h.name) }, 'alert webhooks configured');
    return {
      async stop() {
        off();
        offBarrier?.();
        // a moment for alerts already queued; the rest stay in the journal for the next start
        await Promise.race([Promise.all(senders.map((s) => s.idle())), new Promise((r) => setTimeout(r, 1_000).unref())]);
        for (const s of senders) s.stop();
        await journal.close();
      },
    };
  },
};
