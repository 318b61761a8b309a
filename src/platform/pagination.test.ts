import { describe, expect, it } from 'vitest';
import { decodeKeysetCursor, encodeKeysetCursor, takePage } from './pagination.ts';

describe('takePage', () => {
  const page = (rows: number[], limit: number) =>
    takePage(
      rows,
      limit,
      (n) => `item ${n}`,
      (n) => `after ${n}`,
    );

  it('when the repository returned one row more than the limit, then the page has a cursor at its last item', () => {
    expect(page([1, 2, 3], 2)).toEqual({ items: ['item 1', 'item 2'], next_cursor: 'after 2' });
  });

  it('when it returned the limit or fewer, then this is the last page', () => {
    expect(page([1, 2], 2)).toEqual({ items: ['item 1', 'item 2'], next_cursor: null });
    expect(page([], 2)).toEqual({ items: [], next_cursor: null });
  });
});

describe('keyset cursors', () => {
  const id = '0b3a52b6-57a4-4b8e-9a43-2f5d2c1c9e10';

  it('when a position is encoded, then decoding gives it back', () => {
    expect(decodeKeysetCursor(encodeKeysetCursor({ micros: '1719000000123456', id }))).toEqual({
      micros: '1719000000123456',
      id,
    });
    expect(decodeKeysetCursor(encodeKeysetCursor({ micros: '5', id: 'outbox-7' }), () => true)).toEqual({
      micros: '5',
      id: 'outbox-7',
    });
  });

  it('when a cursor was not written by us, then it is a 400 invalid_request', () => {
    for (const cursor of [
      '',
      'garbage',
      encodeKeysetCursor({ micros: 'x', id }),
      encodeKeysetCursor({ micros: '1', id: 'nope' }),
    ]) {
      expect(() => decodeKeysetCursor(cursor), cursor).toThrow(
        expect.objectContaining({ code: 'invalid_request', status: 400 }),
      );
    }
  });
});
