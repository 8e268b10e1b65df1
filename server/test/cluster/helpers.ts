/** In-process cluster nodes on a real nats-server, for the cluster hardening tests. */
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ModelDefinition } from '@hextwin/shared';
import { ClusterNode, type ClusterNodeOptions } from '../../src/cluster/cluster-node.js';

/** Resolves with `value()` once `cond` holds on it; the error names `what` and the last value. */
export async function eventually<T>(what: string, value: () => T | Promise<T>, cond: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await value();
    if (cond(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A node with its own metrics registry; `prefix` keeps each test's streams apart on a shared nats-server. */
export function clusterNode(
  natsUrl: string,
  nodeId: string,
  models: ModelDefinition[],
  extra: Partial<ClusterNodeOptions> = {},
): ClusterNode & { registry: Registry } {
  const registry = new Registry();
  const node = new ClusterNode({ natsUrl, nodeId, models, logger: pino({ level: 'silent' }), registry, nodeTtlMs: 2_000, checkpointMs: 200, ...extra });
  return Object.assign(node, { registry });
}

/** The value of one counter/gauge series on a registry (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
