/**
 * The benchmark's plug-in contract. A figure file in bench/figures/ exports
 * `default { name, async run(b: Bench) }` and reports one or more figures with `b.report(...)`.
 * Figures are quoted as a ratio to a floor measured in the same run (see floors.ts), because
 * absolute numbers drift on shared machines: `ratio = value / floor value`, whatever the unit, so
 * for a rate higher is better and for a latency or a size lower is better; say which in `goal`.
 */

export interface FigureReport {
  /** stable, dotted: "engine.apply-rate", "ws.ingest-batched" */
  name: string;
  value: number;
  /** "msgs/s", "ms", "bytes/twin"; in --quick runs say what was smaller: "msgs/s (100k twins)" */
  unit: string;
  /**
   * name of the floor figure this one compares to, e.g. "floor.parse-lookup-update", or of a peer
   * reported earlier in the same run (a figure of another system under the same load)
   */
  floor?: string;
  /** what we aim for, in words: "ratio >= 0.8", "<= 100 ms" */
  goal?: string;
}

export interface Bench {
  /** --quick: smaller counts and shorter runs, the whole suite within a minute */
  readonly quick: boolean;
  report(figure: FigureReport): void;
  /** The value of a floor measured earlier in this run, or undefined when it did not run. */
  floor(name: string): number | undefined;
  /** A progress note on stderr. */
  progress(text: string): void;
}

export interface Figure {
  readonly name: string;
  /** the floors its reports compare to: `--only` runs them too, so that ratios are never missing */
  readonly floors?: readonly string[];
  /** for a floor figure: the floor names it reports, when they are not just its own name */
  readonly provides?: readonly string[];
  /** how long the figure may run (default 60 s quick, 600 s full); for a figure whose size is configurable */
  timeoutMs?(quick: boolean): number;
  run(b: Bench): Promise<void>;
}

/** One line of output and of the results file. */
export interface FigureResult {
  name: string;
  value: number;
  unit: string;
  floor: string | null;
  ratio: number | null;
  goal: string | null;
}

export function isFigure(x: unknown): x is Figure {
  return typeof x === 'object' && x !== null && typeof (x as Figure).name === 'string' && typeof (x as Figure).run === 'function';
}
