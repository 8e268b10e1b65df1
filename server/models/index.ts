/** The sample models that ship with hextwin: the demo, the documentation by example, the benchmark workload. */
import type { ModelDefinition } from '@hextwin/shared';
import { employee } from './employee.js';
import { gasSensor } from './gas-sensor.js';
import { gridNode } from './grid-node.js';
import { truck } from './truck.js';
import { windTurbine } from './wind-turbine.js';

export { employee, gasSensor, gridNode, truck, windTurbine };

export const sampleModels: ModelDefinition[] = [gasSensor, gridNode, windTurbine, truck, employee];
