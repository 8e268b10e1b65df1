/** A demo scenario: a change to the simulated world that an operator triggers. */
import type { WireEnvelope } from '../fleet.js';
import type { Random } from '../random.js';
import type { World } from '../world.js';

export interface ScenarioEffect {
  /** messages that make the change visible at once, sent ahead of the regular stream */
  messages: WireEnvelope[];
  /** what happened, for the log: "severe attack on the grid around Chicago, IL ..." */
  summary: string;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Changes the world from event time t on (devices then behave accordingly), and says what it did. */
  apply(world: World, t: number, rng: Random): ScenarioEffect;
}

export const MINUTE = 60_000;
