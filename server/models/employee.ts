/**
 * `employee`: contact tracing by twin-to-twin messaging.
 *
 * - `{ type: "contact", otherId, at }` records a contact on both sides: this twin tells the other
 *   with a `reciprocal` copy, which is recorded without being echoed back.
 * - `{ type: "positiveTest", at }` makes the twin `positive` and sends an exposure notice to every
 *   contact of the 14 days before `at`.
 * - An exposure notice `{ type: "exposure", source, from, testAt, hopsLeft }` carries the original
 *   test time and how many more hops it may travel: 1 from the positive twin, so its contacts pass it
 *   on once more and contacts of contacts are notified, but not contacts at three hops.
 * - A notified twin that is not positive reacts once, whatever reaches it in whatever order:
 *   `status = "exposed"`, a `{ type: "quarantine", from, at }` command to its device (`from`: the
 *   twin whose notice reached it, `at`: the original test time) and a WARNING alert.
 * - It forwards a notice whenever that notice may travel further than any it has already forwarded,
 *   so a short path found late still carries the notice as far as it should. A contact recorded
 *   after a notice went out (reported late) is sent that notice too when it falls in the window.
 *   Both rules make the outcome independent of arrival order.
 *
 * `department` and `location` (a site or floor, for aggregates) and optional `lat`/`lng` come from
 * `{ type: "init", department, location, lat, lng }`.
 */
import { defineModel, eventTime, pushBounded, Severity, type TwinContext } from '@hextwin/shared';
import { latSchema, lngSchema, nullable, timestampSchema } from './schema.js';

const DAY = 86_400_000;
/** Contacts this long before a test time are notified (inclusive). */
export const EXPOSURE_WINDOW_MS = 14 * DAY;
/** Hops a notice may travel beyond the positive twin's direct contacts. */
export const EXPOSURE_HOPS = 1;
/** Contacts are kept this long after the newest one, so a test reported a little late still finds them. */
export const CONTACT_RETENTION_MS = 28 * DAY;
export const MAX_CONTACTS = 1_000;

export type EmployeeStatus = 'healthy' | 'exposed' | 'positive';

export interface ExposureNotice {
  /** the positive twin the chain started from */
  source: string;
  /** original test time, epoch ms */
  testAt: number;
  /** hops the notice may travel after reaching its recipient */
  hopsLeft: number;
}

export type EmployeeMessage =
  | { type: 'init'; department?: string; location?: string; lat?: number; lng?: number }
  | { type: 'contact'; otherId: string; at: number | string; reciprocal?: boolean }
  | { type: 'positiveTest'; at: number | string }
  | ({ type: 'exposure'; from: string } & ExposureNotice);

export interface Contact {
  id: string;
  at: number;
}

export interface EmployeeState {
  status: EmployeeStatus;
  department: string | null;
  location: string | null;
  lat: number | null;
  lng: number | null;
  /** recent contacts, oldest first */
  contacts: Contact[];
  /** time of the positive test */
  testAt: number | null;
  /** the twin whose notice made this one exposed */
  exposedBy: string | null;
  /** original test time of that notice */
  exposedAt: number | null;
  /** the notice this twin passed on that may travel furthest; null before any */
  forwarded: ExposureNotice | null;
}

const inWindow = (contactAt: number, testAt: number) => contactAt <= testAt && testAt - contactAt <= EXPOSURE_WINDOW_MS;

/** Send `notice` to every contact of its window (once each), except `skip`. */
function notifyContacts(ctx: TwinContext, state: EmployeeState, notice: ExposureNotice, skip: readonly string[]): void {
  const ids = new Set(state.contacts.filter((c) => inWindow(c.at, notice.testAt)).map((c) => c.id));
  for (const id of ids) {
    if (!skip.includes(id)) ctx.sendToTwin(ctx.model, id, { type: 'exposure', from: ctx.id, ...notice });
  }
}

function recordContact(ctx: TwinContext, state: EmployeeState, otherId: string, at: number, reciprocal: boolean): void {
  if (otherId === ctx.id) return;
  if (!state.contacts.some((c) => c.id === otherId && c.at === at)) {
    pushBounded(state.contacts, { id: otherId, at }, MAX_CONTACTS);
    state.contacts.sort((a, b) => a.at - b.at);
    const newest = state.contacts.at(-1)!.at;
    state.contacts = state.contacts.filter((c) => newest - c.at <= CONTACT_RETENTION_MS);
  }
  if (!reciprocal) ctx.sendToTwin(ctx.model, otherId, { type: 'contact', otherId: ctx.id, at, reciprocal: true });
  // a contact reported after this twin sent a notice still gets it when it falls in the notice's window
  if (state.forwarded && inWindow(at, state.forwarded.testAt)) {
    ctx.sendToTwin(ctx.model, otherId, { type: 'exposure', from: ctx.id, ...state.forwarded });
  }
}

function receiveNotice(ctx: TwinContext, state: EmployeeState, from: string, notice: ExposureNotice): void {
  if (state.status === 'positive') return; // its own notices already travel as far as any can
  if (state.status !== 'exposed') {
    state.status = 'exposed';
    state.exposedBy = from;
    state.exposedAt = notice.testAt;
    ctx.sendToSource({ type: 'quarantine', from, at: notice.testAt });
    ctx.alert({
      severity: Severity.WARNING,
      title: 'Exposed to a positive case',
      message: `contact with ${from}; quarantine`,
      data: { from, source: notice.source, testAt: notice.testAt, department: state.department, location: state.location },
    });
  }
  const onward: ExposureNotice = { ...notice, hopsLeft: notice.hopsLeft - 1 };
  if (onward.hopsLeft >= 0 && (state.forwarded === null || onward.hopsLeft > state.forwarded.hopsLeft)) {
    state.forwarded = onward;
    notifyContacts(ctx, state, onward, [from, notice.source]);
  }
}

export const employee = defineModel<EmployeeState, EmployeeMessage>({
  name: 'employee',
  description: 'Contact tracing: a positive test notifies contacts and their contacts of the 14 days before it.',
  init: () => ({
    status: 'healthy',
    department: null,
    location: null,
    lat: null,
    lng: null,
    contacts: [],
    testAt: null,
    exposedBy: null,
    exposedAt: null,
    forwarded: null,
  }),
  process(ctx, state, messages) {
    for (const m of messages) {
      switch (m.type) {
        case 'init':
          if (m.department !== undefined) state.department = m.department;
          if (m.location !== undefined) state.location = m.location;
          if (m.lat !== undefined && m.lng !== undefined) {
            state.lat = m.lat;
            state.lng = m.lng;
          }
          break;
        case 'contact':
          // only a twin's echo counts as reciprocal: a device's report is always told to the other side
          recordContact(ctx, state, m.otherId, eventTime(m.at) ?? ctx.now(), m.reciprocal === true && ctx.from.kind === 'twin');
          break;
        case 'positiveTest': {
          const testAt = eventTime(m.at) ?? ctx.now();
          state.status = 'positive';
          state.testAt = testAt;
          state.forwarded = { source: ctx.id, testAt, hopsLeft: EXPOSURE_HOPS };
          notifyContacts(ctx, state, state.forwarded, []);
          break;
        }
        case 'exposure':
          // notices travel between twins only: a device cannot declare itself exposed (or others)
          if (ctx.from.kind !== 'twin') {
            ctx.log('warn', `ignored an exposure notice sent by a ${ctx.from.kind}, not by a twin`);
            break;
          }
          receiveNotice(ctx, state, m.from, { source: m.source, testAt: m.testAt, hopsLeft: m.hopsLeft });
          break;
      }
    }
    return 'update';
  },
  location: (s) => (s.lat !== null && s.lng !== null ? { lat: s.lat, lng: s.lng } : undefined),
  level: (s) => (s.status === 'positive' ? Severity.CRITICAL : s.status === 'exposed' ? Severity.WARNING : undefined),
  messageSchema: {
    type: 'object',
    // the fields first, then which are required for each message type
    allOf: [
      {
        required: ['type'],
        properties: {
          type: { enum: ['init', 'contact', 'positiveTest', 'exposure'] },
          department: { type: 'string' },
          location: { type: 'string' },
          lat: latSchema,
          lng: lngSchema,
          otherId: { type: 'string', minLength: 1 },
          at: timestampSchema,
          reciprocal: { type: 'boolean' },
          from: { type: 'string', minLength: 1 },
          source: { type: 'string', minLength: 1 },
          testAt: { type: 'number' },
          hopsLeft: { type: 'integer', minimum: 0 },
        },
      },
      { if: { properties: { type: { const: 'contact' } } }, then: { required: ['otherId', 'at'] } },
      { if: { properties: { type: { const: 'positiveTest' } } }, then: { required: ['at'] } },
      { if: { properties: { type: { const: 'exposure' } } }, then: { required: ['from', 'source', 'testAt', 'hopsLeft'] } },
    ],
  },
  stateSchema: {
    type: 'object',
    properties: {
      status: { enum: ['healthy', 'exposed', 'positive'] },
      department: nullable('string'),
      location: nullable('string'),
      lat: nullable('number'),
      lng: nullable('number'),
      contacts: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'string' }, at: { type: 'number' } } },
      },
      testAt: nullable('number'),
      exposedBy: nullable('string'),
      exposedAt: nullable('number'),
      forwarded: nullable('object'),
    },
  },
});
