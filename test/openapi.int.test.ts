import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestStack } from './helpers/use-test-stack.ts';

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PATH_ITEM_FIELDS = new Set([...METHODS, '$ref', 'summary', 'description', 'servers', 'parameters']);

// Walks the document and yields every value with its JSON pointer.
function* walk(value: unknown, pointer = ''): Generator<[string, unknown]> {
  yield [pointer, value];
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      yield* walk(inner, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  }
}

function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = doc;
  for (const part of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

// The structural rules of OpenAPI 3.1 that a generator can get wrong; there is no OpenAPI
// validator among the dependencies, so the checks are spelled out here.
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi))
    problems.push('openapi is not 3.1.x');
  const info = doc.info as Json | undefined;
  if (typeof info?.title !== 'string' || !info.title) problems.push('info.title missing');
  if (typeof info?.version !== 'string' || !info.version) problems.push('info.version missing');
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  const operationIds = new Set<string>();
  for (const [route, item] of Object.entries(paths)) {
    if (!route.startsWith('/')) problems.push(`${route}: path must start with /`);
    for (const field of Object.keys(item)) {
      if (!PATH_ITEM_FIELDS.has(field) && !field.startsWith('x-'))
        problems.push(`${route}: unknown field ${field}`);
    }
    const templated = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const method of METHODS.filter((m) => m in item)) {
      const op = item[method] as Json;
      const where = `${method.toUpperCase()} ${route}`;
      const responses = op.responses as Record<string, Json> | undefined;
      if (!responses || Object.keys(responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of Object.entries(responses ?? {})) {
        if (!/^([1-5](\d\d|XX)|default)$/.test(status)) problems.push(`${where}: bad status key ${status}`);
        if (!('$ref' in response) && typeof response.description !== 'string') {
          problems.push(`${where} ${status}: response without description`);
        }
      }
      const params = [...((item.parameters as Json[]) ?? []), ...((op.parameters as Json[]) ?? [])];
      for (const param of params) {
        if (!['query', 'header', 'path', 'cookie'].includes(param.in as string)) {
          problems.push(`${where}: parameter ${String(param.name)} has bad "in"`);
        }
        if (param.in === 'path' && param.required !== true)
          problems.push(`${where}: path parameter not required`);
        if (param.in === 'path' && !templated.includes(param.name as string)) {
          problems.push(`${where}: path parameter ${String(param.name)} not in the template`);
        }
      }
      for (const name of templated) {
        if (!params.some((p) => p.in === 'path' && p.name === name)) {
          problems.push(`${where}: template {${name}} has no path parameter`);
        }
      }
      if (typeof op.operationId === 'string') {
        if (operationIds.has(op.operationId)) problems.push(`${where}: duplicate operationId`);
        operationIds.add(op.operationId);
      }
    }
  }
  for (const [pointer, value] of walk(doc)) {
    if (pointer.endsWith('/$ref') && typeof value === 'string' && resolvePointer(doc, value) === undefined) {
      problems.push(`${pointer}: unresolved $ref ${value}`);
    }
  }
  // OpenAPI 3.1 schema objects are JSON Schema 2020-12.
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  for (const [name, schema] of Object.entries(schemas)) {
    if (!ajv.validateSchema(schema)) problems.push(`components.schemas.${name}: ${ajv.errorsText()}`);
  }
  return problems;
}

describe('API description and operational endpoints', () => {
  let doc: Json;
  const { stack, api } = useTestStack();

  beforeAll(async () => {
    const response = await api.get(null, '/openapi.json');
    expect(response.statusCode).toBe(200);
    doc = response.json() as Json;
  });

  describe('GET /openapi.json', () => {
    it('when it is fetched, then it is a structurally valid OpenAPI 3.1 document', () => {
      expect(openApiProblems(doc)).toEqual([]);
    });

    it('when the paths are read, then the public routes are there with their methods', () => {
      const paths = doc.paths as Record<string, Json>;
      expect(Object.keys(paths['/v1/actions'] ?? {})).toEqual(expect.arrayContaining(['post', 'get']));
      expect(paths['/v1/actions/{id}']).toHaveProperty('get');
      expect(paths['/v1/audit']).toHaveProperty('get');
      expect(paths['/v1/audit/verify']).toHaveProperty('get');
    });

    it('when the paths are read, then hidden operational routes are left out', () => {
      const paths = Object.keys(doc.paths as Json);
      for (const hidden of ['/livez', '/readyz', '/metrics', '/openapi.json'])
        expect(paths).not.toContain(hidden);
    });

    it('when the components are read, then Action and Problem are named schemas and bearer auth is declared', () => {
      const components = doc.components as {
        schemas: Record<string, Json>;
        securitySchemes: Record<string, Json>;
      };
      expect(Object.keys(components.schemas)).toEqual(expect.arrayContaining(['Action', 'Problem']));
      expect(components.schemas.Action).toMatchObject({ type: 'object' });
      expect(Object.keys((components.schemas.Action!.properties as Json) ?? {})).toEqual(
        expect.arrayContaining([
          'id',
          'object',
          'tool',
          'arguments',
          'user_id',
          'status',
          'decision',
          'result',
        ]),
      );
      expect(Object.keys((components.schemas.Problem!.properties as Json) ?? {})).toEqual(
        expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']),
      );
      expect(components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    });

    it('when the proposal operation is read, then it answers with an Action and errors with Problem', () => {
      const post = (doc.paths as Record<string, Json>)['/v1/actions']!.post as Json;
      const responses = post.responses as Record<string, Json>;
      const refsOf = (status: string) =>
        [...walk(responses[status])].filter(([p]) => p.endsWith('/$ref')).map(([, v]) => v);
      expect(refsOf('201')).toContain('#/components/schemas/Action');
      expect(refsOf('403')).toContain('#/components/schemas/Problem');
    });
  });

  describe('POST /v1/actions headers', () => {
    it('when the proposal operation is read, then Idempotency-Key is a required header of 1-255 characters', () => {
      const post = (doc.paths as Record<string, Json>)['/v1/actions']!.post as Json;
      const header = (post.parameters as Json[]).find(
        (p) => p.in === 'header' && p.name === 'idempotency-key',
      );
      expect(header).toMatchObject({ required: true, schema: { minLength: 1, maxLength: 255 } });
    });

    it('when the key is missing or empty, then it is 400 idempotency_key_required; too long, 400 invalid_request', async () => {
      const key = await stack.container.auth.createKey({ tenant: 'acme', role: 'agent' });
      const body = { tool: 'notes.create', arguments: { title: 't', body: 'b' }, user_id: 'u' };
      const send = (idempotencyKey?: string) =>
        stack.app.inject({
          method: 'POST',
          url: '/v1/actions',
          headers: {
            authorization: `Bearer ${key.key}`,
            ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
          },
          payload: body,
        });
      expect((await send()).json()).toMatchObject({ status: 400, code: 'idempotency_key_required' });
      expect((await send('')).json()).toMatchObject({ status: 400, code: 'idempotency_key_required' });
      expect((await send('k'.repeat(256))).json()).toMatchObject({
        status: 400,
        code: 'invalid_request',
        errors: [{ field: 'headers.idempotency-key' }],
      });
    });
  });

  describe('GET /', () => {
    it('when a browser opens the root, then it is redirected to the API reference', async () => {
      const response = await stack.app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(302);
      expect(response.headers.location).toBe('/docs');
    });
  });

  describe('GET /docs', () => {
    it('when it is fetched, then it answers 200 or redirects to a UI page that answers 200 with HTML', async () => {
      let response = await stack.app.inject({ method: 'GET', url: '/docs' });
      for (let hops = 0; hops < 3 && response.statusCode >= 300 && response.statusCode < 400; hops++) {
        const location = new URL(String(response.headers.location), 'http://localhost/docs/');
        response = await stack.app.inject({ method: 'GET', url: `${location.pathname}${location.search}` });
      }
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/text\/html/);
      expect(response.body.toLowerCase()).toContain('<html');
    });
  });

  describe('GET /metrics', () => {
    it('when one request has been served, then Prometheus text holds the request duration histogram for it', async () => {
      expect((await stack.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
      const response = await stack.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      const lines = response.body.split('\n').filter(Boolean);
      expect(lines).toContain('# TYPE http_server_request_duration_seconds histogram');
      const count = lines.find(
        (l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('route="/livez"'),
      );
      expect(count, 'a _count series for /livez').toBeDefined();
      expect(Number(count!.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
      // Values follow Go's ParseFloat, which reads NaN and Inf in any letter case.
      for (const line of lines.filter((l) => !l.startsWith('#'))) {
        expect(line).toMatch(
          /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.eE+-]+|[Nn][Aa][Nn]|[+-]?[Ii]nf)( -?\d+)?$/,
        );
      }
    });
  });
});
