// First: on another Node than 24 this prints one line and exits before anything else runs.
import './scripts/require-node-24.mjs';
import { defineConfig } from 'vitest/config';

// Two projects: unit tests touch nothing outside the process; integration tests
// talk to real Postgres, Redis and BullMQ. The global setup migrates one template
// database that each integration test file clones.
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
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
