import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../src/cli/commands.ts';
import { useTestStack } from '../helpers/use-test-stack.ts';

// docs/api.md is the API reference a reader has without running anything. It must document,
// under a heading `### METHOD /path`, every route the app registers (the operator route
// included, so its token is set), and name every CLI command.

const API_MD = path.resolve(import.meta.dirname, '../../docs/api.md');

// Fastify's printRoutes tree: each line is a path segment with its methods, indented four
// characters per level under its parent.
export function routesOf(tree: string): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = url;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) routes.push({ method, url });
  }
  return routes;
}

// The pages of the bundled UIs and HEAD twins are not API routes of their own.
const isApiRoute = ({ method, url }: { method: string; url: string }) =>
  method !== 'HEAD' && !/^\/docs\//.test(url) && !/^\/console./.test(url);

const asDocumented = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

describe('docs/api.md', () => {
  const { stack } = useTestStack({
    moderation: false,
    env: { AIRLOCK_OPERATOR_TOKEN: 'o'.repeat(32), ALERT_WEBHOOK_TOKEN: 'w'.repeat(32) },
  });

  it('reads the route tree', () => {
    expect(routesOf('├── /v1/a (GET, HEAD)\n│   └── /:id (POST)\n└── /b (GET)')).toEqual([
      { method: 'GET', url: '/v1/a' },
      { method: 'HEAD', url: '/v1/a' },
      { method: 'POST', url: '/v1/a/:id' },
      { method: 'GET', url: '/b' },
    ]);
  });

  it('documents every route the app registers', async () => {
    const doc = await readFile(API_MD, 'utf8');
    const headings = new Set([...doc.matchAll(/^### ([A-Z]+ \/\S*)\s*$/gm)].map((m) => m[1]!));
    const routes = routesOf(stack.app.printRoutes({ commonPrefix: false })).filter(isApiRoute);
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes
      .map(({ method, url }) => `${method} ${asDocumented(url)}`)
      .filter((route) => !headings.has(route));
    expect(missing, 'routes without a `### METHOD /path` heading in docs/api.md').toEqual([]);
  });

  it('documents every path in the served OpenAPI', async () => {
    const doc = await readFile(API_MD, 'utf8');
    const documented = new Set([...doc.matchAll(/^### [A-Z]+ (\/\S*)\s*$/gm)].map((m) => m[1]!));
    const paths = Object.keys((stack.app.swagger() as { paths: Record<string, unknown> }).paths);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !documented.has(p))).toEqual([]);
  });

  it('names every CLI command', async () => {
    const doc = await readFile(API_MD, 'utf8');
    const commands = USAGE.split('\n')
      .slice(1)
      .map((line) => /^ {2}([a-z]+(?: [a-z]+)?)\b/.exec(line)?.[1])
      .filter((c): c is string => Boolean(c));
    expect(commands.length).toBeGreaterThan(5);
    expect(commands.filter((command) => !doc.includes(`\`${command}`))).toEqual([]);
  });
});
