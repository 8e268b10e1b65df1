/** The machine's PostgreSQL (127.0.0.1:5432, trust auth, database `test`); PG_URL overrides it. */
import pg from 'pg';

export const pgUrl = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Fails (never skips) with a clear message when PostgreSQL is not reachable. */
export async function requirePostgres(): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (e) {
    throw new Error(`PostgreSQL is not reachable at ${pgUrl} (${(e as Error).message}); start it (pg_isready -h 127.0.0.1) or set PG_URL`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A connected client (tests in test/ reach PostgreSQL through this: pg is the server's dependency). */
export async function openPg(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  return c;
}
