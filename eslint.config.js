import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', '.node/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through src/platform/config.ts only.',
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Config is the one place that reads the environment; tools and tests that set up
    // child processes pass env explicitly.
    files: ['src/platform/config.ts', 'test/**', 'scripts/**', 'bench/**', '**/*.test.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The console's browser modules: plain JavaScript served as is, with browser globals.
    files: ['src/modules/console/client/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'performance',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
          'URL',
          'Node',
          'HTMLElement',
          'Event',
          'EventListener',
          'KeyboardEvent',
          'HTMLInputElement',
          'HTMLTextAreaElement',
          'console',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // k6 scripts run in k6, not Node: its globals, type-checked with @types/k6.
    files: ['load-tests/**/*.js'],
    languageOptions: { globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly' } },
  },
);
