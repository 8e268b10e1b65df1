/**
 * How cluster nodes talk to each other apart from JetStream: fire-and-forget fan-out, requests to
 * one responder (answered in one or more chunks), and scatter-gather to every responder.
 * Implementations: in-process (memory-transport.ts, several "nodes" in one process) and NATS
 * (nats-transport.ts). Both pass the same contract (transport-contract.ts).
 *
 * Subjects are dot-separated tokens; in `subscribe` and `serve`, `*` matches one token and `>`
 * the rest.
 */

export interface Subscription {
  unsubscribe(): void;
}

/** Answers one request with its reply chunks (at least one); a thrown HextwinError reaches the requester with its code. */
export type RequestHandler = (data: Uint8Array) => Uint8Array[] | Promise<Uint8Array[]>;

export interface Transport {
  readonly kind: string;
  /** Deliver to every subscriber of a matching subject; one publisher's messages arrive in order. */
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): Subscription;
  /** Answer requests on a subject. With `queue`, each request goes to one member of that group. */
  serve(subject: string, handler: RequestHandler, opts?: { queue?: string }): Subscription;
  /**
   * Ask one responder; resolves with its reply chunks in order. Rejects with CLUSTER_UNAVAILABLE
   * when nobody serves the subject (`details.reason` 'no-responders') or no answer came within
   * `timeoutMs` (default 5 s; reason 'timeout').
   */
  request(subject: string, data: Uint8Array, opts?: { timeoutMs?: number }): Promise<Uint8Array[]>;
  /**
   * Ask every responder; resolves with each responder's reply chunks, once `expect` responders
   * answered or `timeoutMs` passed. Responders that failed are left out; nobody serving gives [].
   */
  gather(subject: string, data: Uint8Array, opts: { timeoutMs: number; expect?: number }): Promise<Uint8Array[][]>;
  /** Resolves once everything published so far has left this process. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Does a concrete subject match a subscription pattern with `*` and `>` wildcards? */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i]!;
    if (t === '>') return i < s.length;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}
