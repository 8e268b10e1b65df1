/**
 * A model that never returns (a synchronous endless loop) cannot freeze the server for good: the
 * watchdog quarantines that twin and ends the process; restarted on the same data, the server
 * comes up (no crash loop on replay), refuses the twin with TWIN_QUARANTINED and serves the rest,
 * with every acknowledged message of other twins applied.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../kit/rest-client.js';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';

const env = { HEXTWIN_SAMPLE_MODELS: '0', MODELS_DIR: path.join(repoRoot, 'test/fixtures/hang-models'), MODEL_WATCHDOG_MS: '300' };
let server: ServerHandle | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('Model watchdog', () => {
  it('quarantines a twin whose model loops forever, ends the process, and serves again after a restart', async () => {
    server = await startServer({ env });
    expect((await request(server.url, 'POST', '/api/v1/messages/hang/fine', { body: { n: 1 } })).status).toBe(202);
    const exited = new Promise<void>((r) => {
      const iv = setInterval(() => {
        try {
          process.kill(server!.pid, 0);
        } catch {
          clearInterval(iv);
          r();
        }
      }, 50);
    });
    // acknowledged (it is durable) before the model runs and hangs
    const hung = await request(server.url, 'POST', '/api/v1/messages/hang/stuck', { body: { loop: true } }).catch(() => null);
    expect(hung === null || hung.status === 202).toBe(true);
    await exited;
    expect(server.output()).toContain('MODEL_TIMEOUT');

    server = await server.restart();
    const refused = await request(server.url, 'POST', '/api/v1/messages/hang/stuck', { body: { n: 2 } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('TWIN_QUARANTINED');
    expect((await request(server.url, 'POST', '/api/v1/messages/hang/fine', { body: { n: 2 } })).status).toBe(202);
    const gql = await request(server.url, 'POST', '/graphql', { body: { query: '{ twin(model: "hang", id: "fine") { state } }' } });
    expect(gql.body.data.twin.state).toEqual({ n: 2 });
    const metrics = await (await fetch(server.url + '/metrics')).text();
    expect(metrics).toMatch(/hextwin_quarantined_twins 1/);

    const listed = await request(server.url, 'POST', '/graphql', { body: { query: '{ quarantined { model id code reason } }' } });
    expect(listed.body.data.quarantined).toMatchObject([{ model: 'hang', id: 'stuck', code: 'MODEL_TIMEOUT' }]);
    const released = await request(server.url, 'POST', '/graphql', { body: { query: 'mutation { releaseQuarantine(model: "hang", id: "stuck") }' } });
    expect(released.body.data.releaseQuarantine).toBe(true);
    expect((await request(server.url, 'POST', '/api/v1/messages/hang/stuck', { body: { n: 3 } })).status).toBe(202);
  });
});
