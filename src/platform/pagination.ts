export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

// Keyset pagination asks the repository for one row more than the page holds: if it comes
// back, there is a next page, and the page's last row names where it starts.
export function takePage<Row, Item>(
  rows: readonly Row[],
  limit: number,
  view: (row: Row) => Item,
  cursorOf: (row: Row) => string,
): Page<Item> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(view),
    next_cursor: rows.length > limit && last !== undefined ? cursorOf(last) : null,
  };
}
