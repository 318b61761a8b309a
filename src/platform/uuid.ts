const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Ids in paths and cursors are checked before they reach a uuid column, so a malformed one
// is a 404 or a 400 rather than a database error.
export const isUuid = (value: string): boolean => UUID.test(value);
