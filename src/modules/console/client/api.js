// The console's only way to the server: the same /v1 API any client uses, with the key in
// an Authorization header. The key lives in this module's memory and nowhere else: not in
// storage, not in a cookie, not in the URL. A reload forgets it.

/** @type {string | null} */
let key = null;

export class ApiError extends Error {
  /** @param {number} status @param {{ code?: string, detail?: string } | null} problem */
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? 'http_error';
  }
}

/** @param {string | null} value */
export function setKey(value) {
  key = value;
}

export const hasKey = () => key !== null;

/** @type {(error: ApiError) => void} */
let onUnauthorized = () => undefined;

/** @param {(error: ApiError) => void} handler */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * @param {'GET' | 'POST' | 'PUT'} method
 * @param {string} path
 * @param {unknown} [body]
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return data;
}

export const get = (/** @type {string} */ path) => api('GET', path);
