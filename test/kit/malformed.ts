/**
 * Malformed inputs for fuzz tests, from a seeded generator so a failure can be replayed: random
 * bytes, truncated JSON, wrong types, deep nesting, invalid UTF-8, absurd names and sizes.
 */

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Malformed {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.r() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(max = 200): Buffer {
    const b = Buffer.alloc(this.int(max));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    return b;
  }

  /** Something a JSON parser should choke on, or that parses into the wrong shape or type. */
  json(): Buffer {
    const valid = JSON.stringify({ seq: this.int(100), pad: 'x'.repeat(this.int(50)), nested: { a: [1, 2, { b: null }] } });
    const depth = 65 + this.int(20_000);
    switch (this.int(12)) {
      case 0:
        return this.bytes();
      case 1:
        return Buffer.from(valid.slice(0, this.int(valid.length)));
      case 2:
        return Buffer.from(`{"seq": ${this.pick(['"7"', '1.5', '-3', 'true', 'null', '[]', '{}', '1e999'])}}`);
      case 3:
        return Buffer.from('['.repeat(depth) + ']'.repeat(depth));
      case 4:
        return Buffer.from(`{"other": ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`);
      case 5:
        return Buffer.concat([Buffer.from('{"pad":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
      case 6:
        return Buffer.from(this.pick(['', ' ', 'null', '0', '"str"', 'true', '[[]]', '{"op":"explode"}', '{"severity":"APOCALYPSE","op":"alert"}']));
      case 7:
        return Buffer.from(valid.replace(/[{}[\]":,]/g, () => this.pick(['{', '}', '[', ']', '"', ':', ',', ''])));
      case 8:
        return Buffer.from(`{"seq": 1, "seq": "dup", "__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}`);
      case 9:
        return Buffer.from(`{"tag": "${'\\u0000\\ud800'.repeat(this.int(50))}", "seq": "x"}`);
      case 10:
        return Buffer.from('\ufeff' + valid + ']]]');
      default:
        return Buffer.from(`{"seq": ${'9'.repeat(400)}}`);
    }
  }

  /** A model name or twin id that is invalid, unknown, or odd. */
  name(): string {
    return (
      this.pick(['', 'nope', 'a'.repeat(300), '../../etc', 'x y', '\u0000', '%00', 'probe\n', '🤖', '$share', 'PROBE', '-', '.'.repeat(70)]) +
      (this.int(2) ? '' : String(this.int(1e6)))
    );
  }
}
