// Plain JavaScript on purpose: it must run on any Node, before Node parses a line of the
// TypeScript entry points (Node 20 stops at `.ts` with ERR_UNKNOWN_FILE_EXTENSION, and vitest
// later with `Map.groupBy is not a function`). `npm start`, `npm run migrate`, `npm run cli`
// preload it with --import; vitest.config.ts imports it first. `.npmrc` sets engine-strict,
// so `npm ci` refuses the wrong Node too.

import process from 'node:process';

export const REQUIRED_NODE_MAJOR = 24;

// One line naming what is needed and what was found, or null when the version fits.
export function nodeVersionProblem(version) {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major === REQUIRED_NODE_MAJOR) return null;
  return `Node ${REQUIRED_NODE_MAJOR} is required; this is Node ${version.replace(/^v/, '')} (.nvmrc pins ${REQUIRED_NODE_MAJOR}: nvm use, or see the README).`;
}

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
