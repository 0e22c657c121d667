// Lint rules that hold the project's lines: strict TypeScript with no `any` escapes,
// better-sqlite3 imported only inside src/db/ so every SQL statement lives there (README.md "How it
// is built"), and imports in src/ that point down the layers without cycles (eslint-rules/layers.js).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import layers from './eslint-rules/layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'uploads/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'support/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'better-sqlite3', message: 'Only src/db/ talks to SQLite: add a query function there.' }] },
      ],
    },
  },
  {
    // Imports in src/ point down the layers and never in a circle (ARCHITECTURE.md).
    files: ['src/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/layers': 'error' },
  },
  {
    files: ['public/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'script' },
  },
  {
    files: ['scripts/**/*.mjs', 'scripts/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'support/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
