/**
 * Compiles a rules document (read by source.ts) into a normal `ModelDefinition`: the engine runs it
 * like any code model. Every mistake is found here, at load, and named by file and line.
 */
import { defineModel, Severity, type AggregateSpec, type JsonSchema, type ModelDefinition, type ProcessResult, type TwinContext } from '@hextwin/shared';
import { compileExpr, compileTemplate, deepEqual, EvalError, ExprError, isTrue, type Evaluator, type NameTable, type Scope } from './expr.js';
import { invalid, type Path, type SourceDoc } from './source.js';

const PROPERTY_TYPES = ['number', 'integer', 'string', 'boolean', 'time', 'list', 'map', 'any'] as const;
type PropertyType = (typeof PROPERTY_TYPES)[number];
const MESSAGE_TYPES = ['number', 'integer', 'string', 'boolean', 'time', 'list', 'map', 'any'] as const;

const TOP_KEYS = ['name', 'description', 'properties', 'message', 'location', 'aggregates', 'rules'];
const AGGREGATE_KEYS = ['model', 'where', 'groupBy', 'metrics', 'everyMs'];
const METRIC_OPS = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX'];
const ALARM_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;
const RULE_KEYS = ['name', 'on', 'let', 'if', 'then', 'else'];

interface Property {
  type: PropertyType;
  default: unknown;
}

/** One action, compiled: runs against the scope and the batch's context. */
type Action = (s: Scope, ctx: TwinContext) => void;

interface CompiledRule {
  trigger: { kind: 'message' } | { kind: 'timer'; name: string };
  run: Action;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fitsType(type: PropertyType, v: unknown): boolean {
  if (v === null || v === undefined || type === 'any') return true;
  switch (type) {
    case 'number':
    case 'time':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v);
    case 'map':
      return isObj(v);
  }
}

function schemaOf(type: PropertyType | (typeof MESSAGE_TYPES)[number], nullable: boolean): JsonSchema {
  const base: Record<string, JsonSchema> = {
    number: { type: 'number' },
    integer: { type: 'integer' },
    string: { type: 'string' },
    boolean: { type: 'boolean' },
    time: { anyOf: [{ type: 'number' }, { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}' }] },
    list: { type: 'array' },
    map: { type: 'object' },
    any: {},
  };
  if (type === 'time' && !nullable) return base.time!;
  if (type === 'time') return { type: ['number', 'null'] };
  const s = base[type]!;
  if (!nullable || type === 'any') return s;
  return { type: [s['type'] as string, 'null'] };
}

export function compileRules(doc: SourceDoc, defaultName: string): ModelDefinition {
  const { file } = doc;
  const fail = (path: Path, msg: string): never => {
    throw invalid(file, doc.lineOf(path), msg);
  };
  const root = doc.value;
  if (!isObj(root)) return fail([], 'a rules model is an object with "name", "properties" and "rules"');
  for (const k of Object.keys(root)) if (!TOP_KEYS.includes(k)) fail([k], `unknown key "${k}" (expected one of ${TOP_KEYS.join(', ')})`);

  const name = root['name'] ?? defaultName;
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name))
    fail(['name'], `model name ${JSON.stringify(name)} must be letters, digits, '-', '_', '.' (starting with a letter)`);
  const description = root['description'];
  if (description !== undefined && typeof description !== 'string') fail(['description'], 'description must be text');

  // ---- properties: the twin's state ----
  const properties = new Map<string, Property>();
  const propsNode = root['properties'] ?? {};
  if (!isObj(propsNode)) fail(['properties'], '"properties" must map each property name to { type, default }');
  for (const [p, spec] of Object.entries(propsNode as Record<string, unknown>)) {
    const at = ['properties', p];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) fail(at, `property name "${p}" must be a plain name (letters, digits, '_')`);
    if (['message', 'state', 'now', 'id', 'model', 'and', 'or', 'not', 'true', 'false', 'null'].includes(p)) fail(at, `"${p}" is a reserved name`);
    const s = typeof spec === 'string' ? { type: spec } : spec;
    if (!isObj(s)) return fail(at, `property "${p}" must be a type name or { type, default }`);
    for (const k of Object.keys(s)) if (k !== 'type' && k !== 'default') fail([...at, k], `unknown key "${k}" in property "${p}" (expected type, default)`);
    const type = s['type'];
    if (!PROPERTY_TYPES.includes(type as PropertyType))
      fail([...at, 'type'], `property "${p}": type must be one of ${PROPERTY_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    const t = type as PropertyType;
    const dflt = Object.hasOwn(s, 'default') ? s['default'] : t === 'list' ? [] : t === 'map' ? {} : null;
    if (!fitsType(t, dflt)) fail([...at, 'default'], `property "${p}": default ${JSON.stringify(dflt)} is not a ${t}`);
    properties.set(p, { type: t, default: dflt });
  }
  const propertyNames = new Set(properties.keys());

  // ---- message fields: the message schema ----
  let messageSchema: JsonSchema | undefined;
  if (root['message'] !== undefined) {
    const m = root['message'];
    if (!isObj(m)) return fail(['message'], '"message" must map each field to { type, required, minimum, maximum, enum }');
    const props: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [f, spec] of Object.entries(m)) {
      const at = ['message', f];
      const s = typeof spec === 'string' ? { type: spec } : spec;
      if (!isObj(s)) return fail(at, `message field "${f}" must be a type name or { type, required, … }`);
      for (const k of Object.keys(s))
        if (!['type', 'required', 'minimum', 'maximum', 'enum'].includes(k)) fail([...at, k], `unknown key "${k}" in message field "${f}"`);
      const type = s['type'] ?? 'any';
      if (!MESSAGE_TYPES.includes(type as PropertyType))
        fail([...at, 'type'], `message field "${f}": type must be one of ${MESSAGE_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
      const schema: Record<string, unknown> = { ...schemaOf(type as PropertyType, false) };
      for (const k of ['minimum', 'maximum'] as const) {
        if (s[k] === undefined) continue;
        if (typeof s[k] !== 'number') fail([...at, k], `message field "${f}": ${k} must be a number`);
        schema[k] = s[k];
      }
      if (s['enum'] !== undefined) {
        if (!Array.isArray(s['enum'])) fail([...at, 'enum'], `message field "${f}": enum must be a list`);
        schema['enum'] = s['enum'];
      }
      if (s['required'] !== undefined && typeof s['required'] !== 'boolean') fail([...at, 'required'], `message field "${f}": required must be true or false`);
      if (s['required'] === true) required.push(f);
      props[f] = schema as JsonSchema;
    }
    messageSchema = { type: 'object', properties: props, ...(required.length ? { required } : {}) };
  }

  // ---- location ----
  let location: ModelDefinition['location'];
  if (root['location'] !== undefined) {
    const l = root['location'];
    if (!isObj(l) || typeof l['lat'] !== 'string' || typeof l['lng'] !== 'string')
      return fail(['location'], '"location" must name the properties holding it: { lat: "<property>", lng: "<property>" }');
    for (const k of ['lat', 'lng'] as const)
      if (!propertyNames.has(l[k] as string)) fail(['location', k], `location ${k}: "${String(l[k])}" is not a property`);
    const latP = l['lat'] as string;
    const lngP = l['lng'] as string;
    location = (st: Record<string, unknown>) => {
      const lat = st[latP];
      const lng = st[lngP];
      return typeof lat === 'number' && typeof lng === 'number' ? { lat, lng } : undefined;
    };
  }

  // ---- aggregates the rules read with aggregate(name, key?) ----
  let aggregates: Record<string, AggregateSpec> | undefined;
  if (root['aggregates'] !== undefined) {
    const a = root['aggregates'];
    if (!isObj(a)) return fail(['aggregates'], '"aggregates" must map each name to { model, where, groupBy, metrics, everyMs }');
    aggregates = {};
    for (const [n, spec] of Object.entries(a)) {
      const at = ['aggregates', n];
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(n)) fail(at, `aggregate name "${n}" must be a plain name`);
      if (!isObj(spec)) return fail(at, `aggregate "${n}" must be { model, where, groupBy, metrics, everyMs }`);
      for (const k of Object.keys(spec))
        if (!AGGREGATE_KEYS.includes(k)) fail([...at, k], `unknown key "${k}" in aggregate "${n}" (expected ${AGGREGATE_KEYS.join(', ')})`);
      if (typeof spec['model'] !== 'string') fail([...at, 'model'], `aggregate "${n}": model must name the model aggregated`);
      if (spec['groupBy'] !== undefined && typeof spec['groupBy'] !== 'string')
        fail([...at, 'groupBy'], `aggregate "${n}": groupBy must be a dotted field path`);
      if (spec['where'] !== undefined && !isObj(spec['where'])) fail([...at, 'where'], `aggregate "${n}": where must be a filter such as { field, op, value }`);
      const every = spec['everyMs'];
      if (every !== undefined && !(typeof every === 'number' && Number.isInteger(every) && every >= 10))
        fail([...at, 'everyMs'], `aggregate "${n}": everyMs must be a whole number of ms, at least 10`);
      const metrics = spec['metrics'];
      if (metrics !== undefined) {
        if (!Array.isArray(metrics)) fail([...at, 'metrics'], `aggregate "${n}": metrics must be a list of { field, op }`);
        (metrics as unknown[]).forEach((m, i) => {
          if (!isObj(m) || !METRIC_OPS.includes(m['op'] as string) || (m['field'] !== undefined && typeof m['field'] !== 'string'))
            fail([...at, 'metrics', i], `aggregate "${n}": a metric is { field, op } with op one of ${METRIC_OPS.join(', ')}`);
          if (m && isObj(m) && m['op'] !== 'COUNT' && typeof m['field'] !== 'string')
            fail([...at, 'metrics', i], `aggregate "${n}": ${String(m['op'])} needs a field`);
        });
      }
      aggregates[n] = spec as unknown as AggregateSpec;
    }
  }
  const aggregateNames = new Set(Object.keys(aggregates ?? {}));

  // ---- rules ----
  const rulesNode = root['rules'];
  if (!Array.isArray(rulesNode) || rulesNode.length === 0) fail(['rules'], '"rules" must be a non-empty list');
  // locals are per trigger: a message rule sees the locals of earlier message rules
  const localsByTrigger = new Map<string, Set<string>>();
  const rules: CompiledRule[] = [];
  const timerNames = new Set<string>();

  (rulesNode as unknown[]).forEach((ruleNode, index) => {
    const at: Path = ['rules', index];
    if (!isObj(ruleNode)) return fail(at, 'a rule is an object with "if" (optional), "then" and "else" (optional)');
    for (const k of Object.keys(ruleNode))
      if (!RULE_KEYS.includes(k)) fail([...at, k], `unknown key "${k}" in a rule (expected one of ${RULE_KEYS.join(', ')})`);
    const label = typeof ruleNode['name'] === 'string' ? `rule "${ruleNode['name']}"` : `rule ${index + 1}`;
    const on = ruleNode['on'] ?? 'message';
    let trigger: CompiledRule['trigger'];
    if (on === 'message') trigger = { kind: 'message' };
    else if (typeof on === 'string' && /^timer [A-Za-z0-9_.-]+$/.test(on)) trigger = { kind: 'timer', name: on.slice(6) };
    else return fail([...at, 'on'], `${label}: "on" must be "message" or "timer <name>", got ${JSON.stringify(on)}`);
    if (trigger.kind === 'timer') timerNames.add(trigger.name);
    const tkey = trigger.kind === 'message' ? 'message' : 'timer ' + trigger.name;
    const locals = localsByTrigger.get(tkey) ?? new Set<string>();
    localsByTrigger.set(tkey, locals);
    const names = (): NameTable => ({ properties: propertyNames, locals: new Set(locals), message: trigger.kind === 'message', aggregates: aggregateNames });
    const line = doc.lineOf(at);

    const expr = (path: Path, src: unknown): Evaluator => {
      try {
        return compileExpr(src as string, names());
      } catch (e) {
        if (e instanceof ExprError) return fail(path, `${label}: ${e.message} (column ${e.column} of ${JSON.stringify(src)})`);
        throw e;
      }
    };
    const template = (path: Path, src: unknown): Evaluator => {
      try {
        return compileTemplate(src as string, names());
      } catch (e) {
        if (e instanceof ExprError) return fail(path, `${label}: ${e.message} (column ${e.column} of ${JSON.stringify(src)})`);
        throw e;
      }
    };
    /** Where an assignment writes: a property, optionally a dotted path into it. */
    const target = (path: Path, dotted: string): { prop: string; rest: string[] } => {
      const parts = dotted.split('.');
      if (!parts.every((x) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(x))) fail(path, `${label}: "${dotted}" is not a property name or dotted path`);
      if (!propertyNames.has(parts[0]!)) fail(path, `${label}: "${parts[0]}" is not a property (properties: ${[...propertyNames].join(', ') || 'none'})`);
      if (parts.length > 1 && !['map', 'any'].includes(properties.get(parts[0]!)!.type))
        fail(path, `${label}: "${parts[0]}" is not a map, so "${dotted}" cannot be set`);
      return { prop: parts[0]!, rest: parts.slice(1) };
    };
    const write = (s: Scope, t: { prop: string; rest: string[] }, v: unknown, where: string) => {
      if (t.rest.length === 0) {
        const type = properties.get(t.prop)!.type;
        if (!fitsType(type, v)) throw new EvalError(`${where}: ${t.prop} is a ${type}, cannot hold ${JSON.stringify(v)}`);
        s.state[t.prop] = v ?? null;
        return;
      }
      let o = s.state[t.prop];
      if (!isObj(o)) s.state[t.prop] = o = {};
      for (const k of t.rest.slice(0, -1)) {
        const next: unknown = (o as Record<string, unknown>)[k];
        o = isObj(next) ? next : ((o as Record<string, unknown>)[k] = {});
      }
      (o as Record<string, unknown>)[t.rest.at(-1)!] = v ?? null;
    };
    const collection = (path: Path, p: unknown, kind: 'list' | 'map' | 'either'): string => {
      if (typeof p !== 'string' || !propertyNames.has(p)) return fail(path, `${label}: ${JSON.stringify(p)} is not a property`);
      const type = properties.get(p)!.type;
      if (kind === 'either' ? !['list', 'map'].includes(type) : type !== kind)
        fail(path, `${label}: "${p}" is a ${type}, not a ${kind === 'either' ? 'list or map' : kind}`);
      return p;
    };

    const actions = (path: Path, node: unknown): Action => {
      if (!Array.isArray(node)) return fail(path, `${label}: expected a list of actions`);
      const list = node.map((a, i) => action([...path, i], a));
      return (s, ctx) => {
        for (const a of list) a(s, ctx);
      };
    };

    const action = (path: Path, node: unknown): Action => {
      if (!isObj(node)) return fail(path, `${label}: an action is an object such as { set: … } or { if: …, then: … }`);
      const keys = Object.keys(node);
      const kind = keys.find((k) =>
        ['set', 'let', 'if', 'alert', 'clearAlert', 'sendToSource', 'sendToTwin', 'startTimer', 'stopTimer', 'push', 'put', 'remove', 'log'].includes(k),
      );
      if (!kind)
        return fail(
          path,
          `${label}: unknown action with keys ${keys.join(', ') || '(none)'} (actions: set, let, if, alert, clearAlert, sendToSource, sendToTwin, startTimer, stopTimer, push, put, remove, log)`,
        );
      const where = `${file}:${doc.lineOf(path)} (${label})`;
      const allowed: Record<string, string[]> = {
        if: ['if', 'then', 'else'],
        startTimer: ['startTimer', 'after', 'recurring'],
        log: ['log', 'level'],
      };
      for (const k of keys) if (!(allowed[kind] ?? [kind]).includes(k)) fail([...path, k], `${label}: unexpected key "${k}" in a ${kind} action`);
      const v = node[kind];
      const here = [...path, kind];
      switch (kind) {
        case 'set': {
          if (!isObj(v)) return fail(here, `${label}: set takes { property: expression, … }`);
          const steps = Object.entries(v).map(([k, src]) => [target([...here, k], k), expr([...here, k], src)] as const);
          return (s) => {
            for (const [t, e] of steps) write(s, t, e(s), where);
          };
        }
        case 'let': {
          if (!isObj(v)) return fail(here, `${label}: let takes { name: expression, … }`);
          const steps: [string, Evaluator][] = [];
          for (const [k, src] of Object.entries(v)) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || propertyNames.has(k))
              fail([...here, k], `${label}: local "${k}" must be a plain name that is not a property`);
            steps.push([k, expr([...here, k], src)]);
            locals.add(k);
          }
          return (s) => {
            for (const [k, e] of steps) s.locals[k] = e(s);
          };
        }
        case 'if': {
          const test = expr(here, v);
          if (node['then'] === undefined) fail(path, `${label}: an if action needs "then"`);
          const then = actions([...path, 'then'], node['then']);
          const otherwise = node['else'] === undefined ? undefined : actions([...path, 'else'], node['else']);
          return (s, ctx) => {
            if (isTrue(test(s), `${where}: if`)) then(s, ctx);
            else otherwise?.(s, ctx);
          };
        }
        case 'alert': {
          if (!isObj(v)) return fail(here, `${label}: alert takes { severity, title, message, data, type }`);
          for (const k of Object.keys(v))
            if (!['severity', 'title', 'message', 'data', 'type'].includes(k)) fail([...here, k], `${label}: unknown key "${k}" in an alert`);
          const type = v['type'];
          if (type !== undefined && (typeof type !== 'string' || !ALARM_TYPE.test(type)))
            fail([...here, 'type'], `${label}: an alert type is a name of 1 to 64 letters, digits, '_', '.', ':', '-'`);
          const severity = v['severity'];
          if (typeof severity !== 'string' || !Object.hasOwn(Severity, severity))
            fail([...here, 'severity'], `${label}: severity must be one of ${Object.keys(Severity).join(', ')}`);
          if (v['title'] === undefined) fail(here, `${label}: an alert needs a title`);
          const title = template([...here, 'title'], v['title']);
          const message = v['message'] === undefined ? undefined : template([...here, 'message'], v['message']);
          const data = v['data'] === undefined ? undefined : expr([...here, 'data'], v['data']);
          return (s, ctx) =>
            ctx.alert({
              severity: severity as Severity,
              title: title(s) as string,
              ...(message ? { message: message(s) as string } : {}),
              ...(data ? { data: data(s) as never } : {}),
              ...(type !== undefined ? { type: type as string } : {}),
            });
        }
        case 'clearAlert': {
          if (typeof v !== 'string' || !ALARM_TYPE.test(v)) return fail(here, `${label}: clearAlert takes the type of the alarm to clear`);
          return (_s, ctx) => ctx.clearAlert(v);
        }
        case 'sendToSource': {
          const e = expr(here, v);
          return (s, ctx) => ctx.sendToSource(e(s) as never);
        }
        case 'sendToTwin': {
          if (!isObj(v) || typeof v['model'] !== 'string')
            return fail(here, `${label}: sendToTwin takes { model: "<model name>", id: expression, message: expression }`);
          const model = v['model'];
          const id = expr([...here, 'id'], v['id']);
          const msg = expr([...here, 'message'], v['message']);
          return (s, ctx) => {
            const to = id(s);
            if (typeof to !== 'string' || to === '') throw new EvalError(`${where}: sendToTwin id must be a non-empty string, got ${JSON.stringify(to)}`);
            ctx.sendToTwin(model, to, msg(s) as never);
          };
        }
        case 'startTimer': {
          if (typeof v !== 'string') return fail(here, `${label}: startTimer takes the timer's name`);
          const after = expr([...path, 'after'], node['after']);
          const recurring = node['recurring'] ?? false;
          if (typeof recurring !== 'boolean') fail([...path, 'recurring'], `${label}: recurring must be true or false`);
          return (s, ctx) => {
            const ms = after(s);
            if (typeof ms !== 'number' || !(ms >= 0)) throw new EvalError(`${where}: startTimer after must be a number of ms, got ${JSON.stringify(ms)}`);
            ctx.startTimer(v, ms, recurring ? 'recurring' : 'once');
          };
        }
        case 'stopTimer': {
          if (typeof v !== 'string') return fail(here, `${label}: stopTimer takes the timer's name`);
          return (_s, ctx) => ctx.stopTimer(v);
        }
        case 'push': {
          if (!isObj(v)) return fail(here, `${label}: push takes { to: "<list property>", value: expression, max: number }`);
          const to = collection([...here, 'to'], v['to'], 'list');
          const value = expr([...here, 'value'], v['value']);
          const max = v['max'] ?? 1000;
          if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) fail([...here, 'max'], `${label}: max must be a positive integer`);
          return (s) => {
            const list = (s.state[to] ??= []) as unknown[];
            list.push(value(s));
            if (list.length > (max as number)) list.splice(0, list.length - (max as number));
          };
        }
        case 'put': {
          if (!isObj(v)) return fail(here, `${label}: put takes { in: "<map property>", key: expression, value: expression }`);
          const into = collection([...here, 'in'], v['in'], 'map');
          const key = expr([...here, 'key'], v['key']);
          const value = expr([...here, 'value'], v['value']);
          return (s) => {
            const k = key(s);
            if (typeof k !== 'string') throw new EvalError(`${where}: put key must be a string, got ${JSON.stringify(k)}`);
            ((s.state[into] ??= {}) as Record<string, unknown>)[k] = value(s);
          };
        }
        case 'remove': {
          if (!isObj(v)) return fail(here, `${label}: remove takes { from: "<list or map property>", key: expression } (a map key, or a list value)`);
          const from = collection([...here, 'from'], v['from'], 'either');
          const key = expr([...here, 'key'], v['key']);
          return (s) => {
            const c = s.state[from];
            const k = key(s);
            if (Array.isArray(c)) s.state[from] = c.filter((x) => !deepEqual(x, k));
            else if (isObj(c) && typeof k === 'string') delete c[k];
          };
        }
        case 'log': {
          const text = template(here, v);
          const level = node['level'] ?? 'info';
          if (!['debug', 'info', 'warn', 'error'].includes(level as string)) fail([...path, 'level'], `${label}: level must be debug, info, warn or error`);
          return (s, ctx) => ctx.log(level as 'info', text(s) as string);
        }
      }
      return fail(path, `${label}: unknown action`);
    };

    // rule-level let comes before the test, so that "if" may use it
    const pre = ruleNode['let'] === undefined ? undefined : action(at, { let: ruleNode['let'] });
    const test = ruleNode['if'] === undefined ? undefined : expr([...at, 'if'], ruleNode['if']);
    if (ruleNode['then'] === undefined) fail(at, `${label}: a rule needs "then"`);
    const then = actions([...at, 'then'], ruleNode['then']);
    const otherwise = ruleNode['else'] === undefined ? undefined : actions([...at, 'else'], ruleNode['else']);
    const where = `${file}:${line} (${label})`;
    rules.push({
      trigger,
      run: (s, ctx) => {
        try {
          pre?.(s, ctx);
          if (!test || isTrue(test(s), `${where}: if`)) then(s, ctx);
          else otherwise?.(s, ctx);
        } catch (e) {
          if (e instanceof EvalError && !e.message.startsWith(file)) throw new EvalError(`${where}: ${e.message}`);
          throw e;
        }
      },
    });
  });

  const messageRules = rules.filter((r) => r.trigger.kind === 'message').map((r) => r.run);
  const timerRules = new Map<string, Action[]>();
  for (const r of rules) if (r.trigger.kind === 'timer') timerRules.set(r.trigger.name, [...(timerRules.get(r.trigger.name) ?? []), r.run]);

  const stateSchema: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries([...properties].map(([p, d]) => [p, schemaOf(d.type, true)])),
  };

  const initial = () => structuredClone(Object.fromEntries([...properties].map(([p, d]) => [p, d.default])));
  const scopeOf = (ctx: TwinContext, state: Record<string, unknown>, message: unknown): Scope => ({
    state,
    message,
    locals: {},
    now: ctx.now(),
    id: ctx.id,
    model: ctx.model,
    ...(aggregates ? { aggregate: (n: string, key: unknown, byKey: boolean) => readAggregate(ctx, n, key, byKey) } : {}),
  });

  return defineModel<Record<string, unknown>, unknown>({
    name: name as string,
    ...(description ? { description: description as string } : {}),
    init: () => initial(),
    process(ctx, state, messages): ProcessResult {
      for (const m of messages) {
        const s = scopeOf(ctx, state, m);
        for (const r of messageRules) r(s, ctx);
      }
      return 'update';
    },
    ...(timerRules.size
      ? {
          onTimer(ctx: TwinContext, state: Record<string, unknown>, timer: string): ProcessResult {
            const list = timerRules.get(timer);
            if (!list) return 'none';
            const s = scopeOf(ctx, state, null);
            for (const r of list) r(s, ctx);
            return 'update';
          },
        }
      : {}),
    ...(location ? { location } : {}),
    ...(aggregates ? { aggregates } : {}),
    ...(messageSchema ? { messageSchema } : {}),
    stateSchema,
  });
}

/** A declared aggregate's latest result as plain values (a copy: a rule may store it in the state). */
function readAggregate(ctx: TwinContext, name: string, key: unknown, byKey: boolean): unknown {
  const copy = (g: { key: unknown; count: number; values: (number | null)[] }) => ({ key: g.key, count: g.count, values: [...g.values] });
  if (!byKey) return ctx.aggregate(name).map(copy);
  const g = ctx.aggregate(name, (key ?? null) as never);
  return g ? copy(g) : null;
}
