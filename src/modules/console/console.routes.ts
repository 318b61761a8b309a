import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { NotFoundError } from '../../platform/errors.ts';

export const CLIENT_DIR = path.join(import.meta.dirname, 'client');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// No inline script or style, no eval, no framing, nothing fetched from elsewhere; DOM sinks
// that parse HTML are closed by Trusted Types, so data is only ever set as text.
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

// Every file is read once at start-up: the console is a handful of small static files and
// the API does the rest. Only files present at start-up can be served, so a request path
// never reaches the file system.
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const type = TYPES[path.extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const full = path.join(entry.parentPath, entry.name);
    const body = readFileSync(full);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(path.relative(dir, full).split(path.sep).join('/'), { body, type, etag });
  }
  return assets;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  });
}

// The console: static files served by the API. It holds the API key in page memory and
// calls the same /v1 endpoints as any other client, so it needs no session, no cookie and
// no privilege of its own (docs/adr, "console").
export const consoleRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const assets = loadAssets(options.dir ?? CLIENT_DIR);
  const send = (file: string, ifNoneMatch: string | undefined, reply: FastifyReply) => {
    const asset = assets.get(file);
    if (!asset) throw new NotFoundError('console file');
    securityHeaders(reply).header('etag', asset.etag).header('cache-control', 'no-cache');
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  app.get('/console', { schema: { hide: true } }, async (request, reply) =>
    send('index.html', request.headers['if-none-match'], reply),
  );
  app.get<{ Params: { '*': string } }>('/console/*', { schema: { hide: true } }, async (request, reply) => {
    const file = request.params['*'];
    return send(file === '' ? 'index.html' : file, request.headers['if-none-match'], reply);
  });
};
