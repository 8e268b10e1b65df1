import { afterEach, describe, expect, it } from 'vitest';
import { createWorkbench, type Workbench } from '../src/workbench.js';
import { employee, type EmployeeState } from './employee.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-01T00:00:00Z');
/** the positive test time used throughout */
const TEST = T0 + 20 * DAY;

let wb: Workbench;
afterEach(() => wb?.close());

async function office() {
  wb = await createWorkbench({ models: [employee], start: T0 });
  const contact = (a: string, b: string, at: number) => wb.send('employee', a, { type: 'contact', otherId: b, at });
  const positive = (id: string, at = TEST) => wb.send('employee', id, { type: 'positiveTest', at });
  const notice = (id: string, hopsLeft: number, testAt = TEST) =>
    wb.send('employee', id, { type: 'exposure', from: 'x', source: 'x', testAt, hopsLeft }, { from: { model: 'employee', id: 'x' } });
  const state = (id: string) => wb.state<EmployeeState>('employee', id);
  const status = (...ids: string[]) => ids.map((id) => state(id)?.status ?? 'absent');
  const notified = () => wb.alerts.map((a) => a.twinId).sort();
  return { contact, positive, notice, state, status, notified };
}

describe('Contacts', () => {
  it('records a contact on both twins', async () => {
    const { contact, state } = await office();
    await contact('ann', 'bob', TEST - DAY);
    expect(state('ann')!.contacts).toEqual([{ id: 'bob', at: TEST - DAY }]);
    expect(state('bob')!.contacts).toEqual([{ id: 'ann', at: TEST - DAY }]);
  });

  it('records a contact reported by both sides once on each', async () => {
    const { contact, state } = await office();
    await contact('ann', 'bob', TEST - DAY);
    await contact('bob', 'ann', TEST - DAY);
    expect(state('ann')!.contacts).toHaveLength(1);
    expect(state('bob')!.contacts).toHaveLength(1);
  });

  it('ignores a contact with itself', async () => {
    const { contact, state } = await office();
    await contact('ann', 'ann', TEST);
    expect(state('ann')!.contacts).toEqual([]);
  });

  it('accepts ISO 8601 times', async () => {
    const { state } = await office();
    await wb.send('employee', 'ann', { type: 'contact', otherId: 'bob', at: '2026-01-05T09:30:00Z' });
    expect(state('bob')!.contacts).toEqual([{ id: 'ann', at: Date.parse('2026-01-05T09:30:00Z') }]);
  });
});

describe('Positive test', () => {
  it('ignores an exposure notice a device sends: notices travel between twins only', async () => {
    const { status } = await office();
    await wb.send('employee', 'mallory', { type: 'exposure', from: 'x', source: 'x', testAt: TEST, hopsLeft: 1 });
    expect(status('mallory')).toEqual(['healthy']);
    expect(wb.alerts).toEqual([]);
    expect(wb.commands).toEqual([]);
  });

  it('makes the twin positive and its contacts exposed, each with a quarantine command and a WARNING', async () => {
    const { contact, positive, state, status } = await office();
    await contact('ann', 'bob', TEST - DAY);
    await contact('ann', 'cid', TEST - 2 * DAY);
    await positive('ann');
    expect(state('ann')).toMatchObject({ status: 'positive', testAt: TEST });
    expect(status('bob', 'cid')).toEqual(['exposed', 'exposed']);
    expect(state('bob')).toMatchObject({ exposedBy: 'ann', exposedAt: TEST });
    // twins run side by side: compare without depending on which ran first
    const byId = (a: [string, unknown], b: [string, unknown]) => a[0].localeCompare(b[0]);
    expect(wb.commands.map((c): [string, unknown] => [c.id, c.command]).sort(byId)).toEqual([
      ['bob', { type: 'quarantine', from: 'ann', at: TEST }],
      ['cid', { type: 'quarantine', from: 'ann', at: TEST }],
    ]);
    expect(wb.alerts.map((a): [string, unknown] => [a.twinId, a.severity]).sort(byId)).toEqual([
      ['bob', 'WARNING'],
      ['cid', 'WARNING'],
    ]);
  });

  it('notifies contacts of exactly 14 days before the test, not 14 days and 1 ms, nor after it', async () => {
    const { contact, positive, status } = await office();
    await contact('ann', 'edge', TEST - 14 * DAY);
    await contact('ann', 'old', TEST - 14 * DAY - 1);
    await contact('ann', 'later', TEST + 1);
    await contact('ann', 'same', TEST);
    await positive('ann');
    expect(status('edge', 'old', 'later', 'same')).toEqual(['exposed', 'healthy', 'healthy', 'exposed']);
  });

  it('sends one notice per contact, however many times they met', async () => {
    const { contact, positive } = await office();
    for (let d = 1; d <= 5; d++) await contact('ann', 'bob', TEST - d * DAY);
    await positive('ann');
    expect(wb.commands).toHaveLength(1);
    expect(wb.alerts).toHaveLength(1);
  });
});

describe('Hops', () => {
  it('notifies contacts of contacts but not contacts at three hops', async () => {
    const { contact, positive, status, notified } = await office();
    await contact('p', 'h1', TEST - DAY);
    await contact('h1', 'h2', TEST - DAY);
    await contact('h2', 'h3', TEST - DAY);
    await positive('p');
    expect(status('p', 'h1', 'h2', 'h3')).toEqual(['positive', 'exposed', 'exposed', 'healthy']);
    expect(notified()).toEqual(['h1', 'h2']);
    expect(wb.commands.map((c) => c.command)).toEqual([
      { type: 'quarantine', from: 'p', at: TEST },
      { type: 'quarantine', from: 'h1', at: TEST },
    ]);
  });

  it('judges the second hop by the original test time, not by when the notice arrives', async () => {
    const { contact, positive, status } = await office();
    await contact('p', 'h1', TEST - DAY);
    await contact('h1', 'in', TEST - 13 * DAY);
    await contact('h1', 'out', TEST - 15 * DAY);
    await contact('h1', 'after', TEST + DAY);
    await wb.advance(30 * DAY);
    await positive('p');
    expect(status('in', 'out', 'after')).toEqual(['exposed', 'healthy', 'healthy']);
  });

  it('lets an exposed twin that tests positive start a chain of its own', async () => {
    const { contact, positive, status } = await office();
    await contact('p', 'h1', TEST - DAY);
    await contact('h1', 'h2', TEST - DAY);
    await contact('h2', 'h3', TEST - DAY);
    await positive('p');
    await positive('h1', TEST + DAY);
    expect(status('h1', 'h2', 'h3')).toEqual(['positive', 'exposed', 'exposed']);
  });
});

describe('Reacting once', () => {
  it('reacts once to notices from several positive contacts', async () => {
    const { contact, positive, state } = await office();
    await contact('p1', 'bob', TEST - DAY);
    await contact('p2', 'bob', TEST - DAY);
    await positive('p1');
    await positive('p2', TEST + HOUR);
    expect(state('bob')).toMatchObject({ status: 'exposed', exposedBy: 'p1' });
    expect(wb.alerts.filter((a) => a.twinId === 'bob')).toHaveLength(1);
    expect(wb.commands.filter((c) => c.id === 'bob')).toHaveLength(1);
  });

  it('reacts once when notices reach it by several paths', async () => {
    const { contact, positive, notified } = await office();
    await contact('p', 'a', TEST - DAY);
    await contact('p', 'b', TEST - DAY);
    await contact('a', 'b', TEST - DAY);
    await contact('a', 'c', TEST - DAY);
    await contact('b', 'c', TEST - DAY);
    await positive('p');
    expect(notified()).toEqual(['a', 'b', 'c']);
    expect(wb.commands).toHaveLength(3);
  });

  it('leaves a positive twin alone when notified', async () => {
    const { contact, positive, state } = await office();
    await positive('p2', TEST - 2 * DAY);
    // met after p2's test, so p2 does not notify p1; p1's own test then notifies p2
    await contact('p1', 'p2', TEST - DAY);
    await positive('p1');
    expect(state('p2')!.status).toBe('positive');
    expect(wb.alerts).toHaveLength(0);
    expect(wb.commands).toHaveLength(0);
  });
});

describe('Arrival order', () => {
  it('forwards a notice that arrives later but may travel further', async () => {
    const { contact, notice, status } = await office();
    await contact('mid', 'far', TEST - DAY);
    await notice('mid', 0);
    expect(status('mid', 'far')).toEqual(['exposed', 'healthy']);
    await notice('mid', 1);
    expect(status('mid', 'far')).toEqual(['exposed', 'exposed']);
    expect(wb.alerts).toHaveLength(2);
  });

  it('ends the same with the notices the other way round', async () => {
    const { contact, notice, status } = await office();
    await contact('mid', 'far', TEST - DAY);
    await notice('mid', 1);
    await notice('mid', 0);
    expect(status('mid', 'far')).toEqual(['exposed', 'exposed']);
    expect(wb.alerts).toHaveLength(2);
  });

  it('does not forward a notice that may travel no further than one already forwarded', async () => {
    const { contact, notice, state } = await office();
    await contact('mid', 'far', TEST - DAY);
    await notice('mid', 1);
    const sent = wb.commands.length;
    await notice('mid', 1, TEST + HOUR);
    await notice('mid', 0);
    expect(wb.commands).toHaveLength(sent);
    expect(state('mid')!.forwarded).toEqual({ source: 'x', testAt: TEST, hopsLeft: 0 });
  });

  it('reaches the same twins whether contacts are reported before or after the test', async () => {
    const graph: [string, string][] = [
      ['p', 'a'],
      ['a', 'b'],
      ['b', 'c'],
      ['d', 'p'],
      ['d', 'e'],
    ];
    const outcomes: string[][] = [];
    for (const contactsFirst of [true, false]) {
      const { contact, positive, notified } = await office();
      if (!contactsFirst) await positive('p');
      for (const [x, y] of graph) await contact(x, y, TEST - DAY);
      if (contactsFirst) await positive('p');
      outcomes.push(notified());
      await wb.close();
    }
    expect(outcomes[0]).toEqual(['a', 'b', 'd', 'e']);
    expect(outcomes[1]).toEqual(outcomes[0]);
  });

  it('passes a notice to a contact reported late only when the contact falls in its window', async () => {
    const { contact, positive, status } = await office();
    await positive('p');
    await contact('p', 'late', TEST - 3 * DAY);
    await contact('p', 'after', TEST + DAY);
    expect(status('late', 'after')).toEqual(['exposed', 'healthy']);
  });
});

describe('Profile', () => {
  it('carries department and location, and a position when given', async () => {
    const { state } = await office();
    await wb.send('employee', 'ann', { type: 'init', department: 'R&D', location: 'HQ-3F', lat: 52.52, lng: 13.4 });
    expect(state('ann')).toMatchObject({ department: 'R&D', location: 'HQ-3F', status: 'healthy' });
    expect(wb.twin('employee', 'ann')).toMatchObject({ lat: 52.52, lng: 13.4 });
  });

  it('refuses a contact without otherId, naming the field', async () => {
    await office();
    await expect(wb.send('employee', 'ann', { type: 'contact', at: TEST })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('otherId'),
    });
  });
});
