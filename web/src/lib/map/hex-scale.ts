/**
 * The colour scale of the hexagon layer: a domain rounded to "nice" numbers so the legend reads
 * well and the paint expression changes only when the data outgrows it (not on every push).
 * Counts use a square-root scale, since a few dense cells would otherwise wash out the rest.
 */
import type { ExpressionSpecification } from 'maplibre-gl';

export const HEX_COLOURS = ['#243b73', '#2f6db0', '#23a99a', '#9fd14a', '#ffe45c'] as const;

export interface HexScale {
  min: number;
  max: number;
  sqrt: boolean;
}

/** The smallest of 1, 2, 5 × 10^n at or above v (v ≥ 0). */
export function niceCeil(v: number): number {
  if (v <= 0) return 0;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const s of [1, 2, 5]) if (s * p >= v) return s * p;
  return 10 * p;
}

export function hexScale(values: Iterable<number>, sqrt: boolean): HexScale {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Number.POSITIVE_INFINITY) return { min: 0, max: 1, sqrt };
  const min = sqrt || lo >= 0 ? 0 : -niceCeil(-lo);
  let max = niceCeil(Math.max(hi, 0));
  if (max <= min) max = min + 1;
  return { min, max, sqrt };
}

/** Does a new scale differ enough to repaint? Only when the data outgrew it or shrank to under a fifth. */
export function scaleChanged(a: HexScale | null, b: HexScale): boolean {
  if (!a) return true;
  return a.sqrt !== b.sqrt || b.max > a.max || b.min < a.min || b.max * 5 < a.max || (a.min < 0 && b.min * 5 > a.min);
}

/** The fill-color expression for features carrying their metric as property `v`. */
export function scaleExpression(scale: HexScale): ExpressionSpecification {
  const t = (f: number): number => (scale.sqrt ? Math.sqrt(scale.max) * f : scale.min + (scale.max - scale.min) * f);
  const input: ExpressionSpecification = scale.sqrt ? ['sqrt', ['max', 0, ['to-number', ['get', 'v'], 0]]] : ['to-number', ['get', 'v'], 0];
  const stops: (number | string)[] = [];
  HEX_COLOURS.forEach((c, i) => stops.push(t(i / (HEX_COLOURS.length - 1)), c));
  return ['interpolate', ['linear'], input, ...stops] as ExpressionSpecification;
}
