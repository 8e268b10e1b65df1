import { describe, expect, it } from 'vitest';
import { bulkEnvelopesOf, messagesOf } from '../../src/connectors/rest-body.js';

const buf = (s: string) => Buffer.from(s);

describe('Messages of a twin URL', () => {
  it('takes one object as one message and an array as many', () => {
    expect(messagesOf(buf('{"a":1}'))).toEqual([{ a: 1 }]);
    expect(messagesOf(buf('[{"a":1}, 2, "x"]'))).toEqual([{ a: 1 }, 2, 'x']);
  });

  it('refuses bodies that are not JSON, or neither object nor array, with coded errors', () => {
    expect(() => messagesOf(buf('{"a":'))).toThrow(expect.objectContaining({ code: 'INVALID_JSON' }));
    expect(() => messagesOf(buf('42'))).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    expect(() => messagesOf(buf('null'))).toThrow(/got null/);
  });

  it('refuses nesting deeper than 64 levels before parsing', () => {
    const deep = '{"a":' + '['.repeat(70) + ']'.repeat(70) + '}';
    expect(() => messagesOf(buf(deep))).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    const fine = '{"a":' + '['.repeat(60) + ']'.repeat(60) + '}';
    expect(messagesOf(buf(fine))).toHaveLength(1);
  });
});

describe('Bulk envelopes', () => {
  it('reads a JSON array of {model, id, message}', () => {
    expect(bulkEnvelopesOf(buf('[{"model":"m","id":"a","message":{"x":1}}]'), false, 10)).toEqual([{ model: 'm', id: 'a', message: { x: 1 } }]);
  });

  it('reads NDJSON, skipping blank lines and carriage returns', () => {
    const body = '{"model":"m","id":"a","message":1}\r\n\n  \n{"model":"m","id":"b","message":2}';
    expect(bulkEnvelopesOf(buf(body), true, 10).map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('names the item or line at fault', () => {
    expect(() => bulkEnvelopesOf(buf('[{"model":"m","id":"a","message":1},{"model":"m","id":7,"message":1}]'), false, 10)).toThrow(
      "item 1: expected 'id' to be a string, got number",
    );
    expect(() => bulkEnvelopesOf(buf('{"model":"m","id":"a","message":1}\n\n{oops'), true, 10)).toThrow(/^line 3 is not valid JSON/);
    expect(() => bulkEnvelopesOf(buf('[{"model":"m","id":"a"}]'), false, 10)).toThrow("item 0: 'message' is missing");
  });

  it('refuses more than maxBatch envelopes with TOO_MANY_MESSAGES', () => {
    const items = JSON.stringify(Array.from({ length: 3 }, (_, i) => ({ model: 'm', id: String(i), message: i })));
    expect(() => bulkEnvelopesOf(buf(items), false, 2)).toThrow(expect.objectContaining({ code: 'TOO_MANY_MESSAGES' }));
    const lines = Array.from({ length: 3 }, (_, i) => JSON.stringify({ model: 'm', id: String(i), message: i })).join('\n');
    expect(() => bulkEnvelopesOf(buf(lines), true, 2)).toThrow(expect.objectContaining({ code: 'TOO_MANY_MESSAGES' }));
  });
});
