/**
 * The behaviour every device connector owes its devices, run over real sockets against the real
 * server. Each connector's test is a few lines: `runConnectorContract({ name, device, ... })`.
 * The server runs with an AUTH_FILE: an admin key (reads the probe twins back over REST) and one
 * device key per DEVICE_IDS entry, scoped to `probe/{id}`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../kit/devices.js';
import { writeAuthFile } from '../kit/auth-file.js';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { report, reportWhen } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';

export const ADMIN_KEY = 'contract-admin-key';
export const DEVICE_IDS = ['dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5', 'dev-6'] as const;
export type DeviceId = (typeof DEVICE_IDS)[number];
export const deviceKey = (id: DeviceId) => `contract-device-key-${id}`;

export interface ConnectorHarness {
  /** the connector's name in metrics and SourceRefs */
  name: 'rest' | 'ws' | 'mqtt';
  /**
   * What a crash does to acknowledged messages. MQTT QoS 1 is at least once by design: a message
   * durable here whose PUBACK the kill cut off is redelivered by the broker.
   */
  delivery: 'exactly-once' | 'at-least-once';
  /** infrastructure the connector needs (a broker) and the server env that points at it */
  setup?(): Promise<{ env: Record<string, string>; teardown(): Promise<void> }>;
  /** a device on this connector's channel that may write only `probe/{id}` */
  device(server: ServerHandle, id: DeviceId): Promise<Device>;
}

export function runConnectorContract(h: ConnectorHarness): void {
  describe(`Connector contract: ${h.name}`, () => {
    let server: ServerHandle;
    let teardown: (() => Promise<void>) | undefined;
    let devices: Device[] = [];
    const open = async (id: DeviceId) => {
      const d = await h.device(server, id);
      devices.push(d);
      return d;
    };

    beforeAll(async () => {
      const infra = await h.setup?.();
      teardown = infra?.teardown;
      const authFile = writeAuthFile([
        { key: ADMIN_KEY, role: 'admin', name: 'contract-admin' },
        ...DEVICE_IDS.map((id) => ({ key: deviceKey(id), role: 'device' as const, twins: [`probe/${id}`], name: id })),
      ]);
      server = await startServer({ env: { ...fixtureEnv, AUTH_FILE: authFile, ...infra?.env } });
    });

    afterEach(async () => {
      await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
      devices = [];
    });

    afterAll(async () => {
      await server?.stop();
      await teardown?.();
    });

    describe('Ingest', () => {
      it('acknowledges messages once durable: all of them survive a kill -9 right after the last ack', async () => {
        const d = await open('dev-1');
        for (let b = 0; b < 5; b++)
          await d.send(
            'probe',
            'dev-1',
            range(4, b * 4).map((seq) => ({ seq })),
          );
        await server.kill();
        server = await server.restart();
        const s = await reportWhen(server.url, 'probe', 'dev-1', (x) => x.count >= 20, ADMIN_KEY);
        expect([...new Set(s.seqs)].sort((a, b) => a - b)).toEqual(range(20));
        if (h.delivery === 'exactly-once') {
          expect(s.seqs).toEqual(range(20));
          expect(s.dups).toBe(0);
        }
      });

      it('delivers one twin its messages in the order the device sent them', async () => {
        const d = await open('dev-6');
        for (let b = 0; b < 3; b++)
          await d.send(
            'probe',
            'dev-6',
            range(5, b * 5).map((seq) => ({ seq })),
          );
        const s = await reportWhen(server.url, 'probe', 'dev-6', (x) => x.count >= 15, ADMIN_KEY);
        expect(s.seqs).toEqual(range(15));
      });
    });

    describe('Bad input', () => {
      it('refuses a message that does not match its model with INVALID_MESSAGE, and counts it', async () => {
        const d = await open('dev-2');
        const labels = { connector: h.name, code: 'INVALID_MESSAGE' };
        const before = await metric(server.url, 'hextwin_connector_errors_total', labels, ADMIN_KEY);
        expect(await d.refusal('probe', 'dev-2', '{"seq":"not a number"}')).toBe('INVALID_MESSAGE');
        expect(await metric(server.url, 'hextwin_connector_errors_total', labels, ADMIN_KEY)).toBe(before + 1);
        expect(await metric(server.url, 'hextwin_errors_total', { code: 'INVALID_MESSAGE' }, ADMIN_KEY)).toBeGreaterThan(0);
      });

      it('refuses bytes that are not JSON with INVALID_JSON, counts it, and goes on accepting', async () => {
        const d = await open('dev-2');
        const labels = { connector: h.name, code: 'INVALID_JSON' };
        const before = await metric(server.url, 'hextwin_connector_errors_total', labels, ADMIN_KEY);
        expect(await d.refusal('probe', 'dev-2', '{"seq": 1,,, \u0001garbage')).toBe('INVALID_JSON');
        expect(await metric(server.url, 'hextwin_connector_errors_total', labels, ADMIN_KEY)).toBe(before + 1);
        await d.send('probe', 'dev-2', [{ seq: 7 }]);
        expect((await reportWhen(server.url, 'probe', 'dev-2', (x) => x.count >= 1, ADMIN_KEY)).seqs).toEqual([7]);
      });
    });

    describe('Commands', () => {
      it('sends a command back to the device on its own channel, as the JSON the model sent', async () => {
        const d = await open('dev-3');
        await d.send('probe', 'dev-3', [{ op: 'echo', command: { command: 'shutdown', code: 100, tag: h.name } }]);
        expect(await d.nextCommand('probe', 'dev-3', (c) => c?.tag === h.name)).toEqual({ command: 'shutdown', code: 100, tag: h.name });
      });
    });

    describe('Auth', () => {
      it('lets a device key write only the twins in its scope', async () => {
        const d = await open('dev-4');
        await d.send('probe', 'dev-4', [{ seq: 1 }]);
        await expect(d.send('probe', 'dev-5', [{ seq: 1 }])).rejects.toMatchObject({ code: 'FORBIDDEN' });
        expect((await report(server.url, 'probe', 'dev-5', ADMIN_KEY)).count).toBe(0);
        expect((await reportWhen(server.url, 'probe', 'dev-4', (x) => x.count >= 1, ADMIN_KEY)).seqs).toEqual([1]);
      });
    });
  });
}
