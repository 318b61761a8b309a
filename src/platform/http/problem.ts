import { Type } from 'typebox';

// RFC 9457 problem details, plus our stable machine-readable `code`.
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, $id: 'Problem' },
);

export const PROBLEM_TYPE_BASE = 'https://airlock.dev/problems/';

export const problemRef = Type.Ref('Problem');

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? 'Error';
}

// Standard error responses every authenticated route can produce, for the OpenAPI document.
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, problemRef]));
}
