/** The cluster figure's model: three fields updated from each reading (as in the engine figure and its floor). */
import { defineModel } from '@hextwin/shared';

export const meter = defineModel<{ v: number; t: number; n: number }, { v: number; t: number }>({
  name: 'meter',
  init: () => ({ v: 0, t: 0, n: 0 }),
  process(_ctx, s, msgs) {
    for (const m of msgs) {
      s.v = m.v;
      s.t = m.t;
      s.n++;
    }
    return 'update';
  },
});
