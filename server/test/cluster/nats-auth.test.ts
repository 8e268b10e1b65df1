/**
 * A nats-server that requires a user and password (started here, stopped by PID): a node with the
 * right credentials joins and works; one without, or with a wrong password, is refused at start
 * with NATS_AUTH_FAILED instead of retrying forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModel, isHextwinError } from '@hextwin/shared';
import { startNats, type NatsHandle } from '../../../test/kit/nats.js';
import { clusterNode, eventually } from './helpers.js';

const counter = defineModel<{ n: number }, { add: number }>({
  name: 'counter',
  init: () => ({ n: 0 }),
  process(_ctx, s, msgs) {
    for (const m of msgs) s.n += m.add;
    return 'update';
  },
});

let nats: NatsHandle;
beforeAll(async () => {
  nats = await startNats({ user: 'hextwin', password: 'pa55-word' });
});
afterAll(async () => {
  await nats?.cleanup();
});

async function refusal(settings: Record<string, string>): Promise<unknown> {
  const node = clusterNode(nats.url, 'intruder', [counter], { nats: settings });
  try {
    await node.start();
    await node.stop();
    return null;
  } catch (e) {
    return e;
  }
}

describe('NATS credentials', () => {
  it('joins and applies messages with the right user and password', async () => {
    const node = clusterNode(nats.url, 'n1', [counter], { nats: { user: 'hextwin', password: 'pa55-word' } });
    await node.start();
    try {
      await node.ingest([{ model: 'counter', id: 'c1', message: { add: 2 } }]);
      const t = await eventually(
        'the message applied',
        () => node.twin('counter', 'c1'),
        (t) => (t?.state as { n: number } | undefined)?.n === 2,
      );
      expect(t?.state).toEqual({ n: 2 });
    } finally {
      await node.stop();
    }
  });

  it('refuses a node without credentials with NATS_AUTH_FAILED', async () => {
    const e = await refusal({});
    expect(isHextwinError(e) && e.code).toBe('NATS_AUTH_FAILED');
    expect((e as Error).message).toMatch(/refused this node.*credentials tried: none/);
  });

  it('refuses a wrong password with NATS_AUTH_FAILED, naming the user but not the password', async () => {
    const e = await refusal({ user: 'hextwin', password: 'guess' });
    expect(isHextwinError(e) && e.code).toBe('NATS_AUTH_FAILED');
    expect((e as Error).message).toContain('user hextwin');
    expect((e as Error).message).not.toContain('guess');
  });
});
