/** The connector benchmarks' model: three fields updated from each reading, as in the floor it is compared with. */
import { defineModel } from '@hextwin/shared';

interface Reading {
  temp: number;
  rpm: number;
  timestamp: number;
}

export const benchReading = defineModel<{ temp: number; rpm: number; t: number; n: number }, Reading>({
  name: 'bench-reading',
  init: () => ({ temp: 0, rpm: 0, t: 0, n: 0 }),
  process(_ctx, s, msgs) {
    for (const m of msgs) {
      s.temp = m.temp;
      s.rpm = m.rpm;
      s.t = m.timestamp;
      s.n++;
    }
    return 'update';
  },
});
