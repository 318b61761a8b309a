import { ValidationError } from './errors.ts';
import { isUuid } from './uuid.ts';

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

// A position in a list ordered by (created_at, id). created_at is whole microseconds since
// the epoch, as text: a JavaScript Date keeps only milliseconds, and a cursor that rounds
// would skip or repeat rows that differ below that.
export interface Keyset {
  createdAtMicros: string;
  id: string;
}

// Opaque to clients: base64url of "micros|id".
export function encodeKeysetCursor(row: { cursorMicros: string; id: string }): string {
  return Buffer.from(`${row.cursorMicros}|${row.id}`).toString('base64url');
}

export function decodeKeysetCursor(cursor: string): Keyset {
  const [micros, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!id || !isUuid(id) || !micros || !/^\d{1,17}$/.test(micros)) {
    throw new ValidationError('invalid_request', 'The cursor is not valid.');
  }
  return { createdAtMicros: micros, id };
}
