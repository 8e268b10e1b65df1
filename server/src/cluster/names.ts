/**
 * Every JetStream stream, KV bucket and NATS subject a cluster uses, derived from one prefix so
 * that several clusters (or tests) can share a NATS server without seeing each other.
 */
export interface ClusterNames {
  readonly prefix: string;
  /** stream of accepted envelopes: one subject per partition */
  readonly logStream: string;
  logSubject(partition: number): string;
  /** stream of partition checkpoints (state deltas and compacted bases): one subject per partition */
  readonly stateStream: string;
  stateSubject(partition: number): string;
  /** KV bucket of partition leases: key `p<partition>` */
  readonly leaseBucket: string;
  /** KV bucket of live nodes: key = node id */
  readonly nodeBucket: string;
  /** KV bucket of per-model shared data */
  readonly sharedBucket: string;
  /** KV bucket of quarantined twins, cluster-wide: key = the twin key in base64url (cluster-quarantine.ts) */
  readonly quarantineBucket: string;
  /** subject on which an owner fans out its partitions' changes, alerts and commands */
  eventSubject(node: string): string;
  readonly eventWildcard: string;
  /** request subject answered by the owner of a partition */
  partitionRpc(partition: number): string;
  /** request subject every node answers (scatter-gather) */
  readonly gatherSubject: string;
  /** request subject a node answers while its NATS connection is up (fast death detection) */
  aliveSubject(node: string): string;
}

/** Node ids become KV keys and subject tokens: letters, digits, '-' and '_' only. */
export function safeToken(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function clusterNames(prefix = 'hextwin'): ClusterNames {
  const p = safeToken(prefix);
  const upper = p.toUpperCase();
  return {
    prefix: p,
    logStream: `${upper}_LOG`,
    logSubject: (n) => `${p}.log.${n}`,
    stateStream: `${upper}_STATE`,
    stateSubject: (n) => `${p}.state.${n}`,
    leaseBucket: `${p}_leases`,
    nodeBucket: `${p}_nodes`,
    sharedBucket: `${p}_shared`,
    quarantineBucket: `${p}_quarantine`,
    eventSubject: (node) => `${p}.events.${safeToken(node)}`,
    eventWildcard: `${p}.events.*`,
    partitionRpc: (n) => `${p}.rpc.${n}`,
    gatherSubject: `${p}.gather`,
    aliveSubject: (node) => `${p}.alive.${safeToken(node)}`,
  };
}
