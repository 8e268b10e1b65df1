/**
 * Depth and size of an operation's arguments once its variables are substituted, checked before
 * it runs. The JSON scalar checks each value it parses (scalars.ts), but a literal that refers to
 * variables is only parsed during execution, where graphql-js swallows the scalar's error; and one
 * large variable used in many arguments (or many times in one literal) multiplies into the
 * messages and commands it becomes. So: every argument of the document, with each variable
 * reference counted at its value's size and depth, must together stay under MAX_BODY_BYTES, and
 * none may nest deeper than MAX_JSON_DEPTH.
 */
import { Kind, visit, type DocumentNode, type ValueNode } from 'graphql';
import { HextwinError } from '@hextwin/shared';
import { MAX_JSON_DEPTH } from '../../connectors/json-depth.js';

/** Depth (objects and arrays) and approximate JSON length of a value, without recursion. */
function measureJson(v: unknown): { depth: number; bytes: number } {
  const stack: [unknown, number][] = [[v, 0]];
  let depth = 0;
  let bytes = 0;
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (typeof x === 'string') bytes += x.length + 2;
    else if (x !== null && typeof x === 'object') {
      if (d + 1 > depth) depth = d + 1;
      if (depth > MAX_JSON_DEPTH) break;
      bytes += 2;
      if (Array.isArray(x)) for (const e of x) stack.push([e, d + 1]);
      else
        for (const k in x) {
          bytes += k.length + 3;
          stack.push([(x as Record<string, unknown>)[k], d + 1]);
        }
    } else bytes += 5;
  }
  return { depth, bytes };
}

/** INVALID_MESSAGE (too deep) or PAYLOAD_TOO_LARGE (too large) for the document's arguments, else undefined. */
export function checkArguments(doc: DocumentNode, variables: Record<string, unknown> | undefined, maxBytes: number): HextwinError | undefined {
  const vars = new Map<string, { depth: number; bytes: number }>();
  const ofVariable = (name: string) => {
    let m = vars.get(name);
    if (!m) vars.set(name, (m = measureJson(variables?.[name])));
    return m;
  };
  let total = 0;
  let deepest = 0;
  visit(doc, {
    Argument(node) {
      const stack: [ValueNode, number][] = [[node.value, 0]];
      while (stack.length) {
        const [v, d] = stack.pop()!;
        switch (v.kind) {
          case Kind.OBJECT:
            deepest = Math.max(deepest, d + 1);
            total += 2;
            for (const f of v.fields) {
              total += f.name.value.length + 3;
              stack.push([f.value, d + 1]);
            }
            break;
          case Kind.LIST:
            deepest = Math.max(deepest, d + 1);
            total += 2;
            for (const e of v.values) stack.push([e, d + 1]);
            break;
          case Kind.VARIABLE: {
            const m = ofVariable(v.name.value);
            deepest = Math.max(deepest, d + m.depth);
            total += m.bytes;
            break;
          }
          case Kind.STRING:
            total += v.value.length + 2;
            break;
          default:
            total += 5;
        }
      }
      // arguments hold no selections: nothing below them to visit
      return false;
    },
  });
  if (deepest > MAX_JSON_DEPTH) return new HextwinError('INVALID_MESSAGE', `an argument nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`);
  if (total > maxBytes)
    return new HextwinError('PAYLOAD_TOO_LARGE', `the arguments, with their variables, would be larger than MAX_BODY_BYTES (${maxBytes} bytes)`);
  return undefined;
}
