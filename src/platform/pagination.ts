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

// A position in a list ordered by (a timestamp, a unique id). The timestamp is whole
// microseconds since the epoch, as text: a JavaScript Date keeps only milliseconds, and a
// cursor that rounds would skip or repeat rows that differ below that.
export interface Keyset {
  micros: string;
  id: string;
}

// Opaque to clients: base64url of "micros|id".
export function encodeKeysetCursor(position: Keyset): string {
  return Buffer.from(`${position.micros}|${position.id}`).toString('base64url');
}

// A cursor is client input: anything that is not one we wrote is 400 invalid_request.
export function decodeKeysetCursor(cursor: string, isValidId: (id: string) => boolean = isUuid): Keyset {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const micros = text.slice(0, bar);
  const id = text.slice(bar + 1);
  if (bar < 1 || !/^\d{1,17}$/.test(micros) || !id || !isValidId(id)) {
    throw new ValidationError('invalid_request', 'The cursor is not valid.');
  }
  return { micros, id };
}
