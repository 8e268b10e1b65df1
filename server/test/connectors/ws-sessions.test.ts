import { describe, expect, it } from 'vitest';
import { MAX_CLOSED, MAX_FID_BYTES, MAX_FIDS, SESSION_TTL_MS, SessionStore } from '../../src/connectors/ws-sessions.js';

describe('WebSocket sessions', () => {
  it('bounds the memory of remembered fids: long fids are forgotten oldest first past MAX_FID_BYTES', () => {
    const s = new SessionStore().create('key-a', {});
    const fid = (i: number) => String(i).padStart(128, 'f');
    for (let i = 0; i < MAX_FIDS; i++) s.track(fid(i), 1);
    expect(s.rememberedFidBytes).toBeLessThanOrEqual(MAX_FID_BYTES);
    expect(s.frame(fid(0))).toBeUndefined();
    expect(s.frame(fid(MAX_FIDS - 1))).toBe(1);
  });

  it('remembers accepted frame ids, the most recent MAX_FIDS of them', () => {
    const s = new SessionStore().create('key-a', {});
    for (let i = 0; i <= MAX_FIDS; i++) s.track(i, 1);
    expect(s.frame(0)).toBeUndefined();
    expect(s.frame(1)).toBe(1);
    expect(s.frame(MAX_FIDS)).toBe(1);
  });

  it('forgets a failed attempt only if it is still the tracked one', () => {
    const s = new SessionStore().create('key-a', {});
    const a = Promise.resolve(1);
    const b = Promise.resolve(2);
    s.track('f', a);
    s.track('f', b);
    s.forget('f', a);
    expect(s.frame('f')).toBe(b);
    s.forget('f', b);
    expect(s.frame('f')).toBeUndefined();
  });

  it('lets the same principal resume a session until it expires, and nobody else', () => {
    const store = new SessionStore();
    const conn = {};
    const s = store.create('key-a', conn);
    store.release(s, conn, 1_000);
    expect(store.find(s.id, 'key-b', 1_000)).toBeUndefined();
    expect(store.find(s.id, 'key-a', 1_000 + SESSION_TTL_MS)).toBe(s);
    expect(store.find(s.id, 'key-a', 1_001 + SESSION_TTL_MS)).toBeUndefined();
  });

  it('finds a session still held by an old connection, so a reconnect can take it over', () => {
    const store = new SessionStore();
    const old = {};
    const s = store.create('key-a', old);
    expect(store.find(s.id, 'key-a', Date.now() + 10 * SESSION_TTL_MS)).toBe(s);
    const fresh = {};
    store.attach(s, fresh);
    store.release(s, old, 0); // the old connection closing later must not release it
    expect(s.holder).toBe(fresh);
  });

  it('keeps at most MAX_CLOSED closed sessions', () => {
    const store = new SessionStore();
    for (let i = 0; i < MAX_CLOSED + 10; i++) {
      const h = {};
      store.release(store.create('k', h), h, i);
    }
    expect(store.size).toBeLessThanOrEqual(MAX_CLOSED);
  });
});
