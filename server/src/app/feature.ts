/**
 * How the server is composed: each surface (connectors, GraphQL, dashboard, cluster) is a Feature
 * that registers its HTTP routes, WebSocket upgrades and readiness checks on the AppContext.
 * app.ts lists the features; adding one is one line there.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { EngineApi } from '../engine/types.js';
import type { Clock } from '../engine/clock.js';
import type { ModelDefinition } from '@hextwin/shared';
import type { SimulationStatus } from '../simulator/simulation.js';
import type { Auth } from '../auth/auth.js';
import type { Recorder } from '../recording/recorder.js';
import type { Geofences } from '../geofence/geofences.js';
import type { ReplayProgress } from '../recording/replay-status.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Demo scenarios an operator can trigger (a grid attack, a gas leak, ...), registered by the simulator. */
export interface ScenarioRegistry {
  register(name: string, description: string, run: () => Promise<void>): void;
  list(): { name: string; description: string }[];
  /** throws NOT_FOUND for an unknown scenario */
  trigger(name: string): Promise<void>;
}

/** The simulation this server runs (set by the simulation or demo feature), and its latest replay, for `Query.simulation`. */
export interface SimulationSlot {
  current: { readonly status: SimulationStatus; readonly wallMs: number } | undefined;
  /** the latest `replayRecording` (running or ended) */
  replay?: ReplayProgress | undefined;
}

export interface AppContext {
  readonly config: Config;
  readonly engine: EngineApi;
  /** the engine clock (a SimulationClock when SIMULATION_SPEED is set) */
  readonly clock: Clock;
  /** every loaded model, simulation models among them */
  readonly models: readonly ModelDefinition[];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly auth: Auth;
  /** Route requests whose path starts with `prefix` (longest prefix wins). */
  route(prefix: string, handler: HttpHandler): void;
  /** Handle WebSocket upgrades on exactly this path. */
  upgrade(path: string, handler: UpgradeHandler): void;
  /** A check that must pass for /readyz; returns null when fine, or why not. */
  readyCheck(name: string, check: () => string | null): void;
  /** Named status of a connector for /metrics, /readyz and the dashboard. */
  connectorStatus(name: string, status: () => { state: string; connections: number }): void;
  /** The current connector statuses. */
  connectors(): { name: string; state: string; connections: number }[];
  readonly scenarios: ScenarioRegistry;
  readonly simulation: SimulationSlot;
  /** Recordings of incoming messages under DATA_DIR/recordings (recording/feature.ts serves them). */
  readonly recorder?: Recorder;
  /** The geofences (geofence/feature.ts loads them and follows the twins; GraphQL edits them). */
  readonly geofences?: Geofences;
  /** Count an error by code in hextwin_errors_total (every surface reports bad input here). */
  countError(code: string): void;
}

export interface FeatureHandle {
  stop(): Promise<void>;
}

export interface Feature {
  readonly name: string;
  start(ctx: AppContext): Promise<FeatureHandle | void>;
}
