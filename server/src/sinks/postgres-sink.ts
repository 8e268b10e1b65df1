/**
 * PostgreSQL sink: events go to one table (created when missing),
 *
 *   event_id text primary key, kind text, model text, twin_id text, at timestamptz, payload jsonb
 *
 * one multi-row INSERT per batch with `ON CONFLICT (event_id) DO NOTHING`, so a retried batch
 * leaves each event in the table once.
 */
import pg from 'pg';
import { eventAt, eventTwin, type SinkEvent } from './events.js';
import type { PostgresSinkConfig } from './config.js';
import type { Sink } from './sink.js';

const quoteIdent = (t: string) =>
  t
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');

export class PostgresSink implements Sink {
  readonly name: string;
  private pool: pg.Pool | null = null;
  private readonly table: string;

  constructor(private readonly cfg: PostgresSinkConfig) {
    this.name = cfg.name;
    this.table = quoteIdent(cfg.table);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    const pool = new pg.Pool({
      connectionString: this.cfg.url,
      max: 2,
      connectionTimeoutMillis: this.cfg.timeoutMs,
      query_timeout: this.cfg.timeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // an idle client that loses its server emits here; the next query reconnects
    pool.on('error', () => undefined);
    try {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (event_id text PRIMARY KEY, kind text NOT NULL, model text NOT NULL, twin_id text NOT NULL, at timestamptz NOT NULL, payload jsonb NOT NULL)`,
      );
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    this.pool = pool;
  }

  async deliver(batch: readonly SinkEvent[]): Promise<void> {
    if (!this.pool) await this.open();
    const ids: string[] = [];
    const kinds: string[] = [];
    const models: string[] = [];
    const twins: string[] = [];
    const ats: string[] = [];
    const payloads: string[] = [];
    for (const e of batch) {
      ids.push(e.eventId);
      kinds.push(e.kind);
      models.push(e.model);
      twins.push(eventTwin(e));
      ats.push(eventAt(e));
      payloads.push(JSON.stringify(e));
    }
    await this.pool!.query(
      `INSERT INTO ${this.table} (event_id, kind, model, twin_id, at, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[])
       ON CONFLICT (event_id) DO NOTHING`,
      [ids, kinds, models, twins, ats, payloads],
    );
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.end().catch(() => undefined);
  }
}
