/** Typed pub/sub over one map of topics to payloads: the engine's and the cluster node's events. */
export class EventHub<Events extends object> {
  private readonly listeners: { [K in keyof Events]?: ((p: Events[K]) => void)[] } = {};

  /** `onError` hears a listener that threw; the others still run. */
  constructor(private readonly onError: (err: unknown, event: keyof Events) => void) {}

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    const list = (this.listeners[event] ??= []) as ((p: Events[K]) => void)[];
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners[event] as ((p: Events[K]) => void)[] | undefined;
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(payload);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }
}
