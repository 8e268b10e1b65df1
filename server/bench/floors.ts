/**
 * The floors of ../shared/STACK.md, measured in the same run as the figures that compare to them:
 * the least work any server must do per message on this machine (parse, find the twin, update it;
 * group, scan; hold a twin in memory; take a message off a socket). In --quick runs the counts are
 * smaller, and the unit says so.
 */
import { latLngToCell } from 'h3-js';
import { Packr } from 'msgpackr';
import type { Bench, Figure } from './bench.js';
import { continentalUsCities } from '../src/simulator/cities.js';
import { heapAfterGc } from './lib/gc.js';
import { startLoopback } from './lib/loopback.js';
import { httpPost, rawHttpRate, rawWsRate, wsTextFrame } from './lib/raw-clients.js';
import { medianMs, opsPerSecond, short } from './lib/measure.js';
import type { PlainTwin, TelemetryMessage } from './lib/twins.js';
import { apply, buildTwins, messageBatches, messageDocs, messageText } from './lib/twins.js';
import { runningMeanFloor } from './figures/detectors.js';

/** The names figures pass as `floor` to compare with. */
export const Floor = {
  jsonParse: 'floor.json-parse',
  memoryPerTwin: 'floor.memory-per-twin',
  parseLookupUpdate: 'floor.parse-lookup-update',
  parseLookupUpdateBatch100: 'floor.parse-lookup-update-batch100',
  msgpackBatch100: 'floor.msgpack-batch100',
  h3GroupRes5: 'floor.h3-group-res5',
  filterScan: 'floor.filter-scan',
  wsBatch100: 'floor.ws-batch100',
  wsSingle8: 'floor.ws-single-8conn',
  httpSingle: 'floor.http-post-single',
  httpBatch100: 'floor.http-post-batch100',
} as const;

interface Plan {
  twins: number;
  /** distinct messages prepared (they are cycled through) */
  docs: number;
  /** ms per timed run, and runs per figure (the median is reported) */
  minMs: number;
  runs: number;
  /** ms of each loopback measurement */
  socketMs: number;
}

const plan = (b: Bench): Plan =>
  b.quick
    ? { twins: 100_000, docs: 100_000, minMs: 250, runs: 3, socketMs: 1_500 }
    : { twins: 1_000_000, docs: 300_000, minMs: 1_000, runs: 3, socketMs: 3_000 };

/** "(100k twins)" in quick runs, "" in full ones: a quick figure must not pass for a full one. */
const scale = (b: Bench, p: Plan) => (b.quick ? ` (${short(p.twins)} twins)` : '');

/** The twins every in-process floor works on, built once per run (and measured while built). */
let fixture: { n: number; twins: Map<string, PlainTwin>; list: PlainTwin[]; bytesPerTwin: number } | undefined;

function twinsFor(p: Plan) {
  if (fixture?.n === p.twins) return fixture;
  fixture = undefined;
  // the cities the twins stand around are loaded first, so that they are not counted as twins
  continentalUsCities();
  const before = heapAfterGc();
  const twins = buildTwins(p.twins);
  const bytesPerTwin = (heapAfterGc() - before) / p.twins;
  fixture = { n: p.twins, twins, list: [...twins.values()], bytesPerTwin };
  return fixture;
}

const jsonParse: Figure = {
  name: Floor.jsonParse,
  async run(b) {
    const p = plan(b);
    const docs = messageDocs(Math.min(p.docs, 50_000), 1_000);
    let i = 0;
    let sink = 0;
    const rate = opsPerSecond(
      () => {
        for (let k = 0; k < 1_000; k++) sink += (JSON.parse(docs[i++ % docs.length]!) as TelemetryMessage).temp;
        return 1_000;
      },
      p.minMs,
      p.runs,
    );
    if (Number.isNaN(sink)) throw new Error('unreachable: keeps the parse from being optimised away');
    b.report({ name: Floor.jsonParse, value: rate, unit: 'msgs/s' });
  },
};

const memoryPerTwin: Figure = {
  name: Floor.memoryPerTwin,
  async run(b) {
    const p = plan(b);
    b.progress(`building ${short(p.twins)} twins`);
    fixture = undefined;
    const f = twinsFor(p);
    b.report({
      name: Floor.memoryPerTwin,
      value: f.bytesPerTwin,
      unit: `bytes/twin (plain 8-field objects in a Map${b.quick ? `, ${short(p.twins)} twins` : ''})`,
    });
  },
};

const parseLookupUpdate: Figure = {
  name: Floor.parseLookupUpdate,
  async run(b) {
    const p = plan(b);
    const { twins } = twinsFor(p);
    const docs = messageDocs(p.docs, p.twins);
    let i = 0;
    const rate = opsPerSecond(
      () => {
        for (let k = 0; k < 1_000; k++) apply(twins, JSON.parse(docs[i++ % docs.length]!) as TelemetryMessage);
        return 1_000;
      },
      p.minMs,
      p.runs,
    );
    b.report({ name: Floor.parseLookupUpdate, value: rate, unit: `msgs/s${scale(b, p)}` });
  },
};

const parseLookupUpdateBatch100: Figure = {
  name: Floor.parseLookupUpdateBatch100,
  async run(b) {
    const p = plan(b);
    const { twins } = twinsFor(p);
    const docs = messageBatches(p.docs / 100, 100, p.twins).map((batch) => `[${batch.map(messageText).join(',')}]`);
    let i = 0;
    const rate = opsPerSecond(
      () => {
        const batch = JSON.parse(docs[i++ % docs.length]!) as TelemetryMessage[];
        for (const m of batch) apply(twins, m);
        return batch.length;
      },
      p.minMs,
      p.runs,
    );
    b.report({ name: Floor.parseLookupUpdateBatch100, value: rate, unit: `msgs/s${scale(b, p)}` });
  },
};

const msgpackBatch100: Figure = {
  name: Floor.msgpackBatch100,
  async run(b) {
    const p = plan(b);
    const { twins } = twinsFor(p);
    // records: the keys of a message shape are sent once, then each message as its values
    const packr = new Packr({ useRecords: true });
    const bufs = messageBatches(p.docs / 100, 100, p.twins).map((batch) => packr.pack(batch));
    let i = 0;
    const rate = opsPerSecond(
      () => {
        const batch = packr.unpack(bufs[i++ % bufs.length]!) as TelemetryMessage[];
        for (const m of batch) apply(twins, m);
        return batch.length;
      },
      p.minMs,
      p.runs,
    );
    b.report({ name: Floor.msgpackBatch100, value: rate, unit: `msgs/s${scale(b, p)}` });
  },
};

const h3GroupRes5: Figure = {
  name: Floor.h3GroupRes5,
  async run(b) {
    const p = plan(b);
    const { list } = twinsFor(p);
    b.progress(`indexing ${short(p.twins)} twins by H3 cell`);
    // an index keeps each twin's cell; equal cells share one string
    const interned = new Map<string, string>();
    const cells = list.map((t) => {
      const c = latLngToCell(t.lat, t.lng, 5);
      const s = interned.get(c);
      if (s) return s;
      interned.set(c, c);
      return c;
    });
    let groups = 0;
    const ms = medianMs(
      () => {
        const bins = new Map<string, { count: number; sum: number; max: number }>();
        for (let i = 0; i < list.length; i++) {
          const t = list[i]!;
          const c = cells[i]!;
          const bin = bins.get(c);
          if (bin) {
            bin.count++;
            bin.sum += t.temp;
            if (t.temp > bin.max) bin.max = t.temp;
          } else bins.set(c, { count: 1, sum: t.temp, max: t.temp });
        }
        groups = bins.size;
      },
      b.quick ? 5 : 7,
    );
    b.report({ name: Floor.h3GroupRes5, value: ms, unit: `ms (${short(p.twins)} twins, ${groups.toLocaleString('en-US')} cells)` });
  },
};

const filterScan: Figure = {
  name: Floor.filterScan,
  async run(b) {
    const p = plan(b);
    const { list } = twinsFor(p);
    let matches = 0;
    const ms = medianMs(
      () => {
        let m = 0;
        for (const t of list) if (t.temp > 95 && t.alertLevel >= 5) m++;
        matches = m;
      },
      b.quick ? 5 : 7,
    );
    if (matches === 0) throw new Error('the filter matched no twin: the fixture is wrong');
    b.report({ name: Floor.filterScan, value: ms, unit: `ms (${short(p.twins)} twins)` });
  },
};

/** The four loopback floors share one server process. */
const loopback: Figure = {
  name: 'floor.loopback',
  provides: [Floor.wsBatch100, Floor.wsSingle8, Floor.httpSingle, Floor.httpBatch100],
  async run(b) {
    const p = plan(b);
    // the server process holds its own twins; the client here only needs the message texts
    fixture = undefined;
    b.progress(`starting the loopback server with ${short(p.twins)} twins`);
    const server = await startLoopback(p.twins);
    try {
      const singles = messageDocs(20_000, p.twins, 4);
      const batches = messageBatches(200, 100, p.twins, 5).map((batch) => `[${batch.map(messageText).join(',')}]`);

      b.progress('WebSocket, batches of 100 per frame');
      const batchFrames = batches.map((text, fid) => wsTextFrame(`{"fid":${fid},"items":${text}}`));
      const wsBatch = await rawWsRate(server.port, batchFrames, 100, 1, 16, p.socketMs);
      b.report({ name: Floor.wsBatch100, value: wsBatch, unit: `msgs/s${scale(b, p)}` });

      b.progress('WebSocket, one message per frame, 8 connections');
      const singleFrames = singles.map((text, fid) => wsTextFrame(`{"fid":${fid},"m":${text}}`));
      const wsSingle = await rawWsRate(server.port, singleFrames, 1, 8, 64, p.socketMs);
      b.report({ name: Floor.wsSingle8, value: wsSingle, unit: `msgs/s${scale(b, p)}` });

      b.progress('HTTP POST, one message per request, 16 connections');
      const httpSingle = await rawHttpRate(
        server.port,
        singles.map((text) => httpPost(server.port, '/m', text)),
        16,
        p.socketMs,
      );
      b.report({ name: Floor.httpSingle, value: httpSingle, unit: `requests/s${scale(b, p)}` });

      b.progress('HTTP POST, 100 messages per request, 16 connections');
      const httpBatch = await rawHttpRate(
        server.port,
        batches.map((text) => httpPost(server.port, '/m', text)),
        16,
        p.socketMs,
      );
      b.report({ name: Floor.httpBatch100, value: httpBatch * 100, unit: `msgs/s${scale(b, p)}` });

      if ((await server.applied()) === 0) throw new Error('the loopback server applied nothing');
    } finally {
      await server.stop();
    }
  },
};

/** In order: memory first (it builds the twins the next ones use), sockets last (they free them). */
const floors: readonly Figure[] = [
  jsonParse,
  memoryPerTwin,
  parseLookupUpdate,
  parseLookupUpdateBatch100,
  msgpackBatch100,
  h3GroupRes5,
  filterScan,
  loopback,
  runningMeanFloor,
];
export default floors;
