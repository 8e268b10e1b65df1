/**
 * Reads a rules file (JSON or YAML) into plain values, remembering the line each value starts on,
 * so that every load-time error can name `file:line`.
 */
import { HextwinError } from '@hextwin/shared';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';

export type Path = readonly (string | number)[];

export interface SourceDoc {
  readonly file: string;
  readonly value: unknown;
  /** The line (1-based) of the value at `path`, or of its nearest parent that has one. */
  lineOf(path: Path): number;
}

/** A load-time error in a rules file: MODEL_INVALID, the message starting with `file:line:`. */
export function invalid(file: string, line: number, message: string): HextwinError {
  return new HextwinError('MODEL_INVALID', `${file}:${line}: ${message}`, { details: { file, line } });
}

const keyOf = (path: Path) => path.join('\u0000');

function docOf(file: string, value: unknown, lines: Map<string, number>): SourceDoc {
  return {
    file,
    value,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const line = lines.get(keyOf(path.slice(0, n)));
        if (line !== undefined) return line;
      }
      return 1;
    },
  };
}

/** JSON with line numbers: a small strict parser (RFC 8259), since JSON.parse gives no positions. */
export function parseJsonSource(file: string, text: string): SourceDoc {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (msg: string): never => {
    throw invalid(file, line, `${msg} (column ${i - lineStart + 1})`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        lineStart = ++i;
      } else if (c === 32 || c === 9 || c === 13) i++;
      else return;
    }
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    for (;;) {
      const c = text[i];
      if (c === undefined || c === '\n') {
        i = start;
        return fail('unterminated string');
      }
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else return fail('bad escape in string');
      } else {
        out += c;
        i++;
      }
    }
  };
  const value = (path: (string | number)[]): unknown => {
    ws();
    if (!lines.has(keyOf(path))) lines.set(keyOf(path), line);
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') return fail('expected a property name in double quotes');
        const keyLine = line;
        const key = str();
        if (Object.hasOwn(obj, key)) return fail(`duplicate property "${key}"`);
        lines.set(keyOf([...path, key]), keyLine);
        ws();
        if (text[i] !== ':') return fail(`expected ':' after "${key}"`);
        i++;
        obj[key] = value([...path, key]);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else return fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value([...path, arr.length]));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else return fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!m) return fail(c === undefined ? 'unexpected end of file' : `unexpected character '${c}'`);
    i += m[0].length;
    return m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]);
  };
  const v = value([]);
  ws();
  if (i < text.length) fail('unexpected text after the end of the JSON value');
  return docOf(file, v, lines);
}

/** YAML with line numbers, through the `yaml` package's document model. */
export function parseYamlSource(file: string, text: string): SourceDoc {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? counter.linePos(first.pos[0]).line;
    throw invalid(file, line, first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
  }
  const lines = new Map<string, number>();
  const walk = (node: YamlNode | null | undefined, path: (string | number)[]) => {
    if (!node) return;
    if (node.range && !lines.has(keyOf(path))) lines.set(keyOf(path), counter.linePos(node.range[0]).line);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const k = pair.key as YamlNode | null;
        if (k?.range) lines.set(keyOf([...path, key]), counter.linePos(k.range[0]).line);
        walk(pair.value as YamlNode | null, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, idx) => walk(item as YamlNode, [...path, idx]));
    }
  };
  walk(doc.contents as YamlNode | null, []);
  return docOf(file, doc.toJS({ maxAliasCount: 100 }) as unknown, lines);
}
