/** A model as the engine runs it: the author's definition plus its validator, twins and shared data. */
import AjvModule, { type ValidateFunction, type ErrorObject } from 'ajv';
import { HextwinError, type JsonValue, type ModelDefinition, type ReferenceRow, type SharedData } from '@hextwin/shared';
import type { Twin } from './twin.js';
import type { DurableTable } from '../store/store.js';
import type { QuarantineRecord } from './types.js';

const Ajv = AjvModule.default ?? AjvModule;
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });

function describe(err: ErrorObject | undefined): string {
  if (!err) return 'message is not valid';
  const field = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : ((err.params as { missingProperty?: string }).missingProperty ?? '');
  if (err.keyword === 'required') return `field '${(err.params as { missingProperty: string }).missingProperty}' is required`;
  if (err.keyword === 'additionalProperties') return `field '${(err.params as { additionalProperty: string }).additionalProperty}' is not allowed`;
  return `field '${field}' ${err.message ?? 'is not valid'}`;
}

export class CompiledModel {
  readonly name: string;
  readonly twins = new Map<string, Twin>();
  private readonly validate: ValidateFunction | undefined;
  reference: Map<string, ReferenceRow> | undefined;
  readonly shared: SharedData;
  /** quarantined twins of this model by id ('*': the whole model) */
  readonly quarantined = new Map<string, QuarantineRecord>();
  /** plain counters on the hot path; /metrics reads them at scrape time */
  accepted = 0;
  applied = 0;
  failed = 0;

  constructor(
    readonly def: ModelDefinition,
    sharedTable: DurableTable<JsonValue>,
  ) {
    this.name = def.name;
    this.validate = def.messageSchema ? ajv.compile(def.messageSchema) : undefined;
    const prefix = def.name + '\u0000';
    this.shared = {
      get: <T extends JsonValue = JsonValue>(key: string) => sharedTable.get(prefix + key) as T | undefined,
      set: (key, value) => sharedTable.put(prefix + key, value),
      delete: (key) => sharedTable.delete(prefix + key),
    };
  }

  /** True when this twin's code must not run. */
  isQuarantined(id: string): boolean {
    return this.quarantined.size > 0 && (this.quarantined.has(id) || this.quarantined.has('*'));
  }

  /** Throws INVALID_MESSAGE naming the failing field. */
  check(message: unknown, where: string): void {
    if (!this.validate) return;
    if (!this.validate(message)) {
      throw new HextwinError('INVALID_MESSAGE', `${this.name} ${where}: ${describe(this.validate.errors?.[0])}`, {
        details: { model: this.name, path: this.validate.errors?.[0]?.instancePath ?? '' },
      });
    }
  }
}
