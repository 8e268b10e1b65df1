/**
 * The contract every Transport passes (in-process and NATS). Each implementation's test is a few
 * lines: `runTransportContract('nats', { create: async () => ({ a, b, cleanup }) })`, where `a` and
 * `b` are two nodes' transports on the same medium.
 */
import { describe, expect, it } from 'vitest';
import { HextwinError } from '@hextwin/shared';
import type { Transport } from './transport.js';

export interface TransportFactory {
  create(): Promise<{ a: Transport; b: Transport; cleanup: () => Promise<void> }>;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Resolves when `cond` holds, polling each turn; names what it waited for when it gives up. */
async function until(cond: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function runTransportContract(name: string, factory: TransportFactory): void {
  describe(`Transport contract: ${name}`, () => {
    it('delivers a publish to every subscriber whose pattern matches, wildcards included', async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        const got: string[] = [];
        a.subscribe('t.x.1', (d, s) => got.push(`a1:${s}:${dec(d)}`));
        b.subscribe('t.*.1', (d, s) => got.push(`b*:${s}:${dec(d)}`));
        b.subscribe('t.>', (d, s) => got.push(`b>:${s}:${dec(d)}`));
        b.subscribe('t.y.1', (d, s) => got.push(`never:${s}:${dec(d)}`));
        await a.flush();
        await b.flush();
        a.publish('t.x.1', enc('hi'));
        await until(() => got.length >= 3, 'three deliveries');
        await b.flush();
        expect(got.sort()).toEqual(['a1:t.x.1:hi', 'b*:t.x.1:hi', 'b>:t.x.1:hi']);
      } finally {
        await cleanup();
      }
    });

    it("keeps one publisher's messages in order", async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        const got: number[] = [];
        b.subscribe('order', (d) => got.push(Number(dec(d))));
        await b.flush();
        for (let i = 0; i < 500; i++) a.publish('order', enc(String(i)));
        await until(() => got.length === 500, '500 messages');
        expect(got).toEqual([...Array(500).keys()]);
      } finally {
        await cleanup();
      }
    });

    it('stops delivering after unsubscribe', async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        const got: string[] = [];
        const sub = b.subscribe('u', (d) => got.push(dec(d)));
        await b.flush();
        a.publish('u', enc('1'));
        await until(() => got.length === 1, 'the first message');
        sub.unsubscribe();
        await b.flush();
        a.publish('u', enc('2'));
        const marker: string[] = [];
        b.subscribe('u', (d) => marker.push(dec(d)));
        await b.flush();
        a.publish('u', enc('3'));
        await until(() => marker.includes('3'), 'the marker');
        expect(got).toEqual(['1']);
      } finally {
        await cleanup();
      }
    });

    it("answers a request with the responder's chunks in order", async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        b.serve('svc.echo', (d) => [enc('1:' + dec(d)), enc('2:' + dec(d)), enc('3:' + dec(d))]);
        await b.flush();
        const reply = await a.request('svc.echo', enc('x'));
        expect(reply.map(dec)).toEqual(['1:x', '2:x', '3:x']);
      } finally {
        await cleanup();
      }
    });

    it('rejects a request nobody serves with CLUSTER_UNAVAILABLE', async () => {
      const { a, cleanup } = await factory.create();
      try {
        await expect(a.request('svc.nobody', enc('x'), { timeoutMs: 2_000 })).rejects.toMatchObject({
          code: 'CLUSTER_UNAVAILABLE',
          details: { reason: 'no-responders' },
        });
      } finally {
        await cleanup();
      }
    });

    it("passes a responder's coded error to the requester", async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        b.serve('svc.fail', () => {
          throw new HextwinError('UNKNOWN_MODEL', 'no model named "x"');
        });
        await b.flush();
        await expect(a.request('svc.fail', enc(''))).rejects.toMatchObject({ code: 'UNKNOWN_MODEL', message: 'no model named "x"' });
      } finally {
        await cleanup();
      }
    });

    it('rejects with CLUSTER_UNAVAILABLE when the responder does not answer in time', async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        b.serve('svc.slow', () => new Promise<Uint8Array[]>(() => undefined));
        await b.flush();
        await expect(a.request('svc.slow', enc(''), { timeoutMs: 100 })).rejects.toMatchObject({ code: 'CLUSTER_UNAVAILABLE', details: { reason: 'timeout' } });
      } finally {
        await cleanup();
      }
    });

    it('gives each request to one member of a queue group', async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        let calls = 0;
        a.serve('svc.q', () => (calls++, [enc('a')]), { queue: 'g' });
        b.serve('svc.q', () => (calls++, [enc('b')]), { queue: 'g' });
        await a.flush();
        await b.flush();
        for (let i = 0; i < 10; i++) {
          const [r] = await a.request('svc.q', enc(''));
          expect(['a', 'b']).toContain(dec(r!));
        }
        expect(calls).toBe(10);
      } finally {
        await cleanup();
      }
    });

    it('gathers one reply from every responder', async () => {
      const { a, b, cleanup } = await factory.create();
      try {
        a.serve('svc.all', (d) => [enc('a:' + dec(d))]);
        b.serve('svc.all', (d) => [enc('b1:' + dec(d)), enc('b2:' + dec(d))]);
        await a.flush();
        await b.flush();
        const replies = await b.gather('svc.all', enc('q'), { timeoutMs: 3_000, expect: 2 });
        expect(replies.map((r) => r.map(dec)).sort()).toEqual([['a:q'], ['b1:q', 'b2:q']]);
      } finally {
        await cleanup();
      }
    });

    it('gathers an empty list when nobody serves', async () => {
      const { a, cleanup } = await factory.create();
      try {
        expect(await a.gather('svc.none', enc(''), { timeoutMs: 2_000, expect: 1 })).toEqual([]);
      } finally {
        await cleanup();
      }
    });
  });
}
