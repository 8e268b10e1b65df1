/**
 * The expression language of rules models: a small, safe, hand-written parser and evaluator (no
 * `eval`, no `Function`). It has no loops, no recursion and no user-defined functions, so every
 * evaluation ends after a number of steps bounded by the expression's size and the size of the
 * collections its built-in functions read. Grammar and semantics: docs/MODELS.md.
 *
 *   expr    := or ('?' expr ':' expr)?
 *   or      := and (('or' | '||') and)*
 *   and     := not (('and' | '&&') not)*
 *   not     := ('not' | '!') not | cmp
 *   cmp     := add (('==' | '!=' | '<' | '<=' | '>' | '>=') add)?
 *   add     := mul (('+' | '-') mul)*
 *   mul     := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | postfix
 *   postfix := primary ('.' NAME | '[' expr ']')*
 *   primary := NUMBER | STRING | 'true' | 'false' | 'null' | NAME | NAME '(' (expr (',' expr)*)? ')'
 *            | '(' expr ')' | '[' (expr (',' expr)*)? ']' | '{' (KEY ':' expr (',' KEY ':' expr)*)? '}'
 */
import { eventTime } from '@hextwin/shared';

/** What an expression can read at run time. */
export interface Scope {
  state: Record<string, unknown>;
  message: unknown;
  locals: Record<string, unknown>;
  now: number;
  id: string;
  model: string;
  /** `aggregate(name, key?)`: the latest result of one of the model's declared aggregates */
  aggregate?: (name: string, key: unknown, byKey: boolean) => unknown;
}

export type Evaluator = (scope: Scope) => unknown;

/** Names an expression may use, checked when the model is loaded. */
export interface NameTable {
  /** state properties, read as bare names */
  properties: ReadonlySet<string>;
  /** locals declared so far */
  locals: ReadonlySet<string>;
  /** `message` is available (not in timer rules) */
  message: boolean;
  /** aggregates the model declares, for `aggregate(name, key?)` */
  aggregates?: ReadonlySet<string>;
}

/** A syntax or name error, with the column (1-based) inside the expression text. */
export class ExprError extends Error {
  override readonly name = 'ExprError';
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/** A run-time error: the rule that ran it adds the file and line. */
export class EvalError extends Error {
  override readonly name = 'EvalError';
}

type Tok =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'name'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1]!;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new ExprError('unterminated string', i + 1);
      out.push({ t: 'str', v: s, at: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`unexpected character '${c}'`, i + 1);
    out.push({ t: 'op', v: op, at: i });
    i += op.length;
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

// ---- values -------------------------------------------------------------------------------------

const typeName = (v: unknown) => (v === null || v === undefined ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'map' : typeof v);

function truthy(v: unknown, what: string): boolean {
  if (v === true) return true;
  if (v === false || v === null || v === undefined) return false;
  throw new EvalError(`${what} needs a boolean, got ${typeName(v)} ${JSON.stringify(v)}`);
}

function num(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  throw new EvalError(`${what} needs numbers, got ${typeName(v)}`);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function numbersOf(args: unknown[], fn: string): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return list.filter((x) => x !== null && x !== undefined).map((x) => num(x, fn + '()'));
}

/** The built-in functions, with their arity [min, max]. Each runs in time linear in its arguments. */
const FUNCTIONS: Record<string, { arity: [number, number]; fn: (args: unknown[]) => unknown }> = {
  time: { arity: [1, 1], fn: ([v]) => eventTime(v) ?? null },
  has: { arity: [1, 1], fn: ([v]) => v !== null && v !== undefined },
  coalesce: { arity: [1, 16], fn: (args) => args.find((v) => v !== null && v !== undefined) ?? null },
  abs: { arity: [1, 1], fn: ([v]) => Math.abs(num(v, 'abs()')) },
  floor: { arity: [1, 1], fn: ([v]) => Math.floor(num(v, 'floor()')) },
  ceil: { arity: [1, 1], fn: ([v]) => Math.ceil(num(v, 'ceil()')) },
  sqrt: { arity: [1, 1], fn: ([v]) => Math.sqrt(num(v, 'sqrt()')) },
  round: {
    arity: [1, 2],
    fn: ([v, d]) => {
      const f = 10 ** (d === undefined ? 0 : num(d, 'round()'));
      return Math.round(num(v, 'round()') * f) / f;
    },
  },
  min: { arity: [1, 16], fn: (args) => (numbersOf(args, 'min').length ? Math.min(...numbersOf(args, 'min')) : null) },
  max: { arity: [1, 16], fn: (args) => (numbersOf(args, 'max').length ? Math.max(...numbersOf(args, 'max')) : null) },
  sum: { arity: [1, 1], fn: (args) => numbersOf(args, 'sum').reduce((a, b) => a + b, 0) },
  avg: {
    arity: [1, 1],
    fn: (args) => {
      const xs = numbersOf(args, 'avg');
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    },
  },
  len: {
    arity: [1, 1],
    fn: ([v]) => {
      if (v === null || v === undefined) return 0;
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (typeof v === 'object') return Object.keys(v).length;
      throw new EvalError(`len() needs a list, map or string, got ${typeName(v)}`);
    },
  },
  keys: { arity: [1, 1], fn: ([v]) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : []) },
  values: { arity: [1, 1], fn: ([v]) => (v && typeof v === 'object' ? Object.values(v) : []) },
  contains: {
    arity: [2, 2],
    fn: ([c, x]) => {
      if (typeof c === 'string') return typeof x === 'string' && c.includes(x);
      if (Array.isArray(c)) return c.some((e) => deepEqual(e, x));
      if (c && typeof c === 'object') return typeof x === 'string' && Object.hasOwn(c, x);
      return false;
    },
  },
  first: { arity: [1, 1], fn: ([v]) => (Array.isArray(v) ? (v[0] ?? null) : null) },
  last: { arity: [1, 1], fn: ([v]) => (Array.isArray(v) ? (v.at(-1) ?? null) : null) },
  str: {
    arity: [1, 1],
    fn: ([v]) => (typeof v === 'string' ? v : v === null || v === undefined ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v)),
  },
  num: {
    arity: [1, 1],
    fn: ([v]) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : null;
    },
  },
  compact: {
    arity: [1, 1],
    fn: ([v]) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined)) : v),
  },
};

export const FUNCTION_NAMES = Object.keys(FUNCTIONS);

const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'null']);
const BUILTIN_NAMES = new Set(['message', 'state', 'now', 'id', 'model']);

function member(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return null;
  if (Array.isArray(obj)) {
    if (typeof key !== 'number') return null;
    return obj[key < 0 ? obj.length + key : key] ?? null;
  }
  if (typeof obj === 'object') return typeof key === 'string' && Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : null;
  if (typeof obj === 'string' && key === 'length') return obj.length;
  return null;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false;
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (op === '+') {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (typeof a === 'string' || typeof b === 'string') return FUNCTIONS.str!.fn([a]) + (FUNCTIONS.str!.fn([b]) as string);
    throw new EvalError(`'+' needs numbers or a string, got ${typeName(a)} and ${typeName(b)}`);
  }
  const x = num(a, `'${op}'`);
  const y = num(b, `'${op}'`);
  return op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : x % y;
}

// ---- parser: straight to closures ---------------------------------------------------------------

/** Parse an expression and check its names; returns the evaluator. Throws ExprError. */
export function compileExpr(src: string, names: NameTable): Evaluator {
  if (typeof src !== 'string') throw new ExprError(`expected an expression as a string, got ${typeName(src)}`, 1);
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const col = () => peek().at + 1;
  const isOp = (v: string) => {
    const t = peek();
    return t.t === 'op' && t.v === v;
  };
  const isWord = (v: string) => {
    const t = peek();
    return t.t === 'name' && t.v === v;
  };
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExprError(`expected '${v}'${describe()}`, col());
    p++;
  };
  const describe = () => {
    const t = peek();
    return t.t === 'end' ? ' at the end' : ` before '${t.t === 'str' ? JSON.stringify(t.v) : String(t.v)}'`;
  };

  const expr = (): Evaluator => {
    const test = or();
    if (!isOp('?')) return test;
    p++;
    const a = expr();
    expect(':');
    const b = expr();
    return (s) => (truthy(test(s), "'?'") ? a(s) : b(s));
  };
  const or = (): Evaluator => {
    let left = and();
    while (isWord('or') || isOp('||')) {
      p++;
      const l = left;
      const r = and();
      left = (s) => truthy(l(s), "'or'") || truthy(r(s), "'or'");
    }
    return left;
  };
  const and = (): Evaluator => {
    let left = not();
    while (isWord('and') || isOp('&&')) {
      p++;
      const l = left;
      const r = not();
      left = (s) => truthy(l(s), "'and'") && truthy(r(s), "'and'");
    }
    return left;
  };
  const not = (): Evaluator => {
    if (isWord('not') || isOp('!')) {
      p++;
      const a = not();
      return (s) => !truthy(a(s), "'not'");
    }
    return cmp();
  };
  const cmp = (): Evaluator => {
    const left = add();
    const t = peek();
    if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      p++;
      const right = add();
      const op = t.v;
      if (op === '==') return (s) => deepEqual(left(s), right(s));
      if (op === '!=') return (s) => !deepEqual(left(s), right(s));
      return (s) => compare(op, left(s), right(s));
    }
    return left;
  };
  const binaryLevel = (ops: string[], next: () => Evaluator) => (): Evaluator => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.t !== 'op' || !ops.includes(t.v)) return left;
      p++;
      const l = left;
      const r = next();
      const op = t.v;
      left = (s) => arith(op, l(s), r(s));
    }
  };
  const unary = (): Evaluator => {
    if (isOp('-')) {
      p++;
      const a = unary();
      return (s) => -num(a(s), "'-'");
    }
    return postfix();
  };
  const mul = binaryLevel(['*', '/', '%'], unary);
  const add = binaryLevel(['+', '-'], mul);
  const postfix = (): Evaluator => {
    let e = primary();
    for (;;) {
      if (isOp('.')) {
        p++;
        const t = peek();
        if (t.t !== 'name') throw new ExprError(`expected a field name after '.'${describe()}`, col());
        p++;
        const obj = e;
        const key = t.v;
        e = (s) => member(obj(s), key);
      } else if (isOp('[')) {
        p++;
        const idx = expr();
        expect(']');
        const obj = e;
        e = (s) => member(obj(s), idx(s));
      } else return e;
    }
  };
  const list = (close: string, item: () => void) => {
    if (isOp(close)) {
      p++;
      return;
    }
    for (;;) {
      item();
      if (isOp(',')) p++;
      else {
        expect(close);
        return;
      }
    }
  };
  const primary = (): Evaluator => {
    const t = peek();
    if (t.t === 'num' || t.t === 'str') {
      p++;
      const v = t.v;
      return () => v;
    }
    if (t.t === 'op' && t.v === '(') {
      p++;
      const e = expr();
      expect(')');
      return e;
    }
    if (t.t === 'op' && t.v === '[') {
      p++;
      const items: Evaluator[] = [];
      list(']', () => items.push(expr()));
      return (s) => items.map((f) => f(s));
    }
    if (t.t === 'op' && t.v === '{') {
      p++;
      const entries: [string, Evaluator][] = [];
      list('}', () => {
        const k = peek();
        if (k.t !== 'name' && k.t !== 'str') throw new ExprError(`expected a key${describe()}`, col());
        p++;
        expect(':');
        entries.push([k.v, expr()]);
      });
      return (s) => {
        const o: Record<string, unknown> = {};
        for (const [k, f] of entries) o[k] = f(s);
        return o;
      };
    }
    if (t.t === 'name') {
      p++;
      if (t.v === 'true') return () => true;
      if (t.v === 'false') return () => false;
      if (t.v === 'null') return () => null;
      if (isOp('(') && t.v === 'aggregate') return aggregateCall(t.at);
      if (isOp('(')) {
        const f = FUNCTIONS[t.v];
        if (!f) throw new ExprError(`unknown function '${t.v}' (functions: ${[...FUNCTION_NAMES, 'aggregate'].join(', ')})`, t.at + 1);
        p++;
        const args: Evaluator[] = [];
        list(')', () => args.push(expr()));
        const [lo, hi] = f.arity;
        if (args.length < lo || args.length > hi)
          throw new ExprError(`${t.v}() takes ${lo === hi ? lo : `${lo} to ${hi}`} argument(s), got ${args.length}`, t.at + 1);
        return (s) => f.fn(args.map((a) => a(s)));
      }
      return nameRef(t.v, t.at);
    }
    throw new ExprError(`expected a value${describe()}`, col());
  };
  /** aggregate('name') (every group) or aggregate('name', key) (that group or null): the name is checked at load */
  const aggregateCall = (at: number): Evaluator => {
    p++;
    const nameTok = toks[p];
    const declared = names.aggregates ?? new Set<string>();
    if (nameTok?.t !== 'str') throw new ExprError("aggregate() takes the aggregate's name as a quoted text first", (nameTok?.at ?? at) + 1);
    if (!declared.has(nameTok.v))
      throw new ExprError(`aggregate '${nameTok.v}' is not declared under "aggregates" (declared: ${[...declared].join(', ') || 'none'})`, nameTok.at + 1);
    const args: Evaluator[] = [];
    list(')', () => args.push(expr()));
    if (args.length > 2) throw new ExprError(`aggregate() takes 1 or 2 argument(s), got ${args.length}`, at + 1);
    const name = nameTok.v;
    const key = args[1];
    return (s) => {
      if (!s.aggregate) return key ? null : [];
      return s.aggregate(name, key ? key(s) : null, key !== undefined) ?? null;
    };
  };
  const nameRef = (name: string, at: number): Evaluator => {
    if (KEYWORDS.has(name)) throw new ExprError(`'${name}' cannot be used here`, at + 1);
    if (names.locals.has(name)) return (s) => s.locals[name] ?? null;
    if (names.properties.has(name)) return (s) => s.state[name] ?? null;
    if (BUILTIN_NAMES.has(name)) {
      if (name === 'message') {
        if (!names.message) throw new ExprError("'message' is not available in a timer rule", at + 1);
        return (s) => s.message;
      }
      if (name === 'state') return (s) => s.state;
      if (name === 'now') return (s) => s.now;
      if (name === 'id') return (s) => s.id;
      return (s) => s.model;
    }
    const known = [...names.properties, ...names.locals];
    throw new ExprError(`unknown name '${name}' (properties and locals: ${known.join(', ') || 'none'}; also message, state, now, id, model)`, at + 1);
  };

  const e = expr();
  if (peek().t !== 'end') throw new ExprError(`unexpected text${describe()}`, col());
  return e;
}

/** Truthiness as rules see it: true is true; false and null are false; anything else is an error. */
export function isTrue(v: unknown, what: string): boolean {
  return truthy(v, what);
}

/** `text ${expr} text`: a template, for alert titles, messages and log lines. */
export function compileTemplate(src: string, names: NameTable): Evaluator {
  if (typeof src !== 'string') throw new ExprError(`expected text, got ${typeName(src)}`, 1);
  const parts: (string | Evaluator)[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('${', i);
    if (open < 0) {
      parts.push(src.slice(i));
      break;
    }
    parts.push(src.slice(i, open));
    const close = src.indexOf('}', open);
    if (close < 0) throw new ExprError("'${' without a closing '}'", open + 1);
    try {
      parts.push(compileExpr(src.slice(open + 2, close), names));
    } catch (e) {
      if (e instanceof ExprError) throw new ExprError(e.message, open + 2 + e.column);
      throw e;
    }
    i = close + 1;
  }
  if (parts.every((x) => typeof x === 'string')) {
    const text = parts.join('');
    return () => text;
  }
  return (s) => parts.map((x) => (typeof x === 'string' ? x : (FUNCTIONS.str!.fn([x(s)]) as string))).join('');
}
