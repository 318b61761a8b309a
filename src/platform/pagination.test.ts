import { describe, expect, it } from 'vitest';
import { takePage } from './pagination.ts';

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
