/**
 * Which fences each twin is in, and the events when that changes: ENTER and EXIT when a twin's
 * location crosses a fence's edge (or a fence is put or removed around it), DWELL once per stay
 * after the fence's `dwellMs` inside, on the engine clock. Only twins inside some fence are
 * remembered; with no fence in a twin's scope a change costs two empty lookups.
 */
import type { GeofenceInput } from '../sinks/events.js';
import type { Fence } from './fence.js';
import { FenceIndex } from './fence-index.js';

/** What the sinks get (GeofenceInput), with the fence itself instead of its name. */
export interface FenceEvent extends Omit<GeofenceInput, 'fence'> {
  fence: Fence;
}

export interface TrackerClock {
  now(): number;
  /** run `fn` once the clock reaches `at`; returns a cancel function */
  wakeAt(at: number, fn: () => void): () => void;
}

interface Stay {
  fence: Fence;
  enteredAt: number;
  cancelDwell: (() => void) | null;
}

interface Member {
  model: string;
  id: string;
  lat: number;
  lng: number;
  stays: Map<string, Stay>;
}

/** Every model's fences (scope null), then each model's own. */
const ALL = '\u0000all';
const key = (model: string, id: string) => model + '\u0001' + id;

export class FenceTracker {
  private readonly indexes = new Map<string, FenceIndex>();
  private readonly members = new Map<string, Member>();
  private readonly fences = new Map<string, Fence>();
  private readonly found: Fence[] = [];

  constructor(
    private readonly clock: TrackerClock,
    private readonly emit: (e: FenceEvent) => void,
  ) {}

  /** Twins inside at least one fence. */
  get inside(): number {
    return this.members.size;
  }

  private index(scope: string | null, create: boolean): FenceIndex | undefined {
    const k = scope ?? ALL;
    let ix = this.indexes.get(k);
    if (!ix && create) this.indexes.set(k, (ix = new FenceIndex()));
    return ix;
  }

  /** Fences tracked. */
  get count(): number {
    return this.fences.size;
  }

  fence(name: string): Fence | undefined {
    return this.fences.get(name);
  }

  /** Every fence, by name. */
  list(): Fence[] {
    return [...this.fences.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The names of the fences a twin is in. */
  fencesOf(model: string, id: string): string[] {
    return [...(this.members.get(key(model, id))?.stays.keys() ?? [])];
  }

  /**
   * A twin is now at (lat, lng) (undefined: it has no location, so it keeps its fences). With
   * `quiet`, memberships are taken as they are without events (after a restart: the events of
   * those stays were sent before it).
   */
  moved(model: string, id: string, lat: number | undefined, lng: number | undefined, quiet = false): void {
    if (lat === undefined || lng === undefined) return;
    const k = key(model, id);
    const m = this.members.get(k);
    if (m && m.lat === lat && m.lng === lng) return;
    const found = this.found;
    found.length = 0;
    const all = this.indexes.get(ALL);
    const own = this.indexes.get(model);
    if (all) all.containing(lat, lng, (f) => void found.push(f));
    if (own) own.containing(lat, lng, (f) => void found.push(f));
    if (!m && found.length === 0) return;
    const now = this.clock.now();
    const member = m ?? { model, id, lat, lng, stays: new Map<string, Stay>() };
    member.lat = lat;
    member.lng = lng;
    if (m)
      for (const [name, stay] of m.stays) {
        if (found.includes(stay.fence)) continue;
        this.leave(member, name, stay, now, quiet);
      }
    for (const f of found) if (!member.stays.has(f.name)) this.enter(member, f, now, quiet);
    if (member.stays.size === 0) this.members.delete(k);
    else if (!m) this.members.set(k, member);
  }

  /** A twin was removed: forget its stays without events. */
  forget(model: string, id: string): void {
    const m = this.members.get(key(model, id));
    if (!m) return;
    for (const s of m.stays.values()) s.cancelDwell?.();
    this.members.delete(key(model, id));
  }

  /**
   * Put a fence (new, or replacing one of that name) and tell the twins about it: `twins` are the
   * located twins in its scope; those now inside ENTER, those no longer inside EXIT.
   */
  put(f: Fence, twins: Iterable<{ model: string; id: string; lat: number | undefined; lng: number | undefined }>, quiet = false): void {
    const old = this.fences.get(f.name);
    if (old) this.index(old.model, false)!.remove(old.name);
    this.index(f.model, true)!.add(f);
    this.fences.set(f.name, f);
    const now = this.clock.now();
    for (const t of twins) {
      if (t.lat === undefined || t.lng === undefined) continue;
      const k = key(t.model, t.id);
      let m = this.members.get(k);
      const stay = m?.stays.get(f.name);
      const inside = (f.model === null || f.model === t.model) && f.contains(t.lat, t.lng);
      if (stay) {
        if (inside) stay.fence = f;
        else this.leave(m!, f.name, stay, now, quiet);
      } else if (inside) {
        if (!m) this.members.set(k, (m = { model: t.model, id: t.id, lat: t.lat, lng: t.lng, stays: new Map() }));
        this.enter(m, f, now, quiet);
      }
      if (m && m.stays.size === 0) this.members.delete(k);
    }
    // twins of a scope the fence left (its model changed) are not among `twins`
    if (old && old.model !== f.model) this.dropStays(f.name, (m) => f.model !== null && m.model !== f.model, now, quiet);
  }

  /** Remove a fence: every twin inside EXITs. */
  remove(name: string, quiet = false): boolean {
    const f = this.fences.get(name);
    if (!f) return false;
    this.index(f.model, false)!.remove(name);
    this.fences.delete(name);
    this.dropStays(name, () => true, this.clock.now(), quiet);
    return true;
  }

  private dropStays(name: string, which: (m: Member) => boolean, now: number, quiet: boolean): void {
    for (const [k, m] of this.members) {
      const stay = m.stays.get(name);
      if (!stay || !which(m)) continue;
      this.leave(m, name, stay, now, quiet);
      if (m.stays.size === 0) this.members.delete(k);
    }
  }

  private enter(m: Member, f: Fence, now: number, quiet: boolean): void {
    const stay: Stay = { fence: f, enteredAt: now, cancelDwell: null };
    m.stays.set(f.name, stay);
    if (f.dwellMs !== null) stay.cancelDwell = this.clock.wakeAt(now + f.dwellMs, () => this.dwelt(m, f.name, stay));
    if (!quiet) this.emit({ fence: f, model: m.model, twinId: m.id, type: 'ENTER', at: now, lat: m.lat, lng: m.lng });
  }

  private leave(m: Member, name: string, stay: Stay, now: number, quiet: boolean): void {
    stay.cancelDwell?.();
    m.stays.delete(name);
    if (!quiet) this.emit({ fence: stay.fence, model: m.model, twinId: m.id, type: 'EXIT', at: now, lat: m.lat, lng: m.lng });
  }

  private dwelt(m: Member, name: string, stay: Stay): void {
    stay.cancelDwell = null;
    if (m.stays.get(name) !== stay) return;
    const now = this.clock.now();
    this.emit({ fence: stay.fence, model: m.model, twinId: m.id, type: 'DWELL', at: now, lat: m.lat, lng: m.lng, dwellMs: now - stay.enteredAt });
  }
}
