// First: on another Node than 24 this prints one line and exits before anything else runs.
import './scripts/require-node-24.mjs';
import { defineConfig } from 'vitest/config';

// Three projects: unit tests touch nothing outside the process; integration tests
// talk to real Postgres, Redis and BullMQ; slow tests are the on-call drills and the
// end-to-end alert runs with a real Prometheus and Alertmanager, which wait minutes on
// rule windows (CI runs them as their own step, one file at a time). The global setup
// migrates one template database that each integration or slow test file clones.
const SLOW = ['test/drills/**/*.int.test.ts', 'test/**/*.e2e.int.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'redteam/**/*.test.ts', 'eval/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**'],
          // GitHub's workflow parser imports its schema JSON without an import attribute,
          // which Node refuses; inlined, Vite loads the JSON (test/deploy/workflow.test.ts).
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'src/**/*.int.test.ts',
            'test/**/*.int.test.ts',
            'redteam/**/*.int.test.ts',
            'eval/**/*.int.test.ts',
          ],
          exclude: [...SLOW, 'node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'slow',
          include: SLOW,
          globalSetup: ['test/global-setup.ts'],
          // A drill loads the machine on purpose (a leaking pool, a retry storm): two at once
          // would measure each other.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
