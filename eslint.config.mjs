import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * Which folder under src/ may import which: the layout of docs/architecture.md, kept by lint. A
 * webhook walks down these folders (ingest → routing → delivery → outbound) and never comes back
 * up; a folder not listed for another is a back-edge, and back-edges are what make cycles.
 * Files at the root of src/ (main, bootstrap, the modules) assemble everything and may import
 * any folder.
 */
const MAY_IMPORT = {
  config: [],
  canonical: [],
  policies: [],
  common: ['config'],
  database: ['config'],
  queues: ['config'],
  auth: ['common', 'config'],
  monitoring: ['auth', 'common', 'config', 'queues'],
  outbound: ['common', 'config'],
  sources: ['canonical', 'common', 'config', 'database', 'outbound'],
  subscriptions: ['canonical', 'common', 'config', 'database', 'outbound', 'policies', 'queues'],
  routing: ['canonical', 'common', 'config', 'policies', 'queues', 'subscriptions'],
  delivery: [
    ...['canonical', 'common', 'config', 'database', 'monitoring', 'outbound', 'policies'],
    ...['queues', 'subscriptions'],
  ],
  events: [
    ...['canonical', 'common', 'config', 'database', 'policies', 'queues'],
    ...['subscriptions', 'routing', 'delivery'],
  ],
  conversations: ['canonical', 'common', 'config', 'database', 'events'],
  ingest: [
    ...['canonical', 'common', 'config', 'database', 'monitoring', 'outbound', 'queues'],
    ...['sources', 'subscriptions', 'routing', 'delivery', 'events', 'conversations'],
  ],
  overview: ['common', 'config', 'database', 'subscriptions', 'delivery', 'events'],
  console: [],
  maintenance: ['common', 'config', 'database', 'queues', 'delivery', 'events', 'actions'],
  actions: [
    ...['auth', 'canonical', 'common', 'config', 'database', 'outbound', 'queues'],
    ...['sources', 'conversations', 'events', 'routing', 'delivery'],
  ],
  'routes-as-code': [
    ...['canonical', 'common', 'config', 'database', 'queues'],
    ...['sources', 'subscriptions'],
  ],
};

const FOLDERS = Object.keys(MAY_IMPORT);

/** A relative import that reaches `folders` under src/ from a file anywhere below src/<folder>/. */
function importsOf(folders) {
  return `^(\\.\\./)+(${folders.join('|')})(/|$)`;
}

function folderRule(folder, allowed) {
  const forbidden = FOLDERS.filter((other) => other !== folder && !allowed.includes(other));
  return [
    'error',
    {
      patterns: [
        {
          regex: importsOf(forbidden),
          message: `src/${folder}/ may import only ${allowed.join(', ') || 'nothing of src/'} (eslint.config.mjs, MAY_IMPORT; docs/architecture.md).`,
        },
        ...(folder === 'canonical'
          ? [
              {
                regex: '^(@nestjs/|typeorm$|\\.\\./)',
                message:
                  'src/canonical/ is plain types and helpers: no Nest, no TypeORM, nothing else of src/.',
              },
            ]
          : []),
      ],
    },
  ];
}

const IMPORT_RULES = [
  ...FOLDERS.map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    // Specs and test helpers may reach across; so may TypeORM's entity list and data sources.
    ignores: [
      '**/*.spec.ts',
      '**/testing/**',
      'src/database/entities.ts',
      'src/database/data-source*.ts',
    ],
    rules: { 'no-restricted-imports': folderRule(folder, MAY_IMPORT[folder]) },
  })),
  {
    // A source plug-in is pure: the canonical model and the plug-in contract (normalizer and
    // settings), nothing else.
    files: ['src/sources/*/**/*.ts'],
    ignores: ['src/sources/dto/**', 'src/sources/testing/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(\\.\\./\\.\\./(?!canonical/)|\\.\\./(?!source-normalizer$|source-settings$|source-actions$|\\.\\./)|typeorm$)',
              message:
                'A source plug-in imports only src/canonical/ and the plug-in contract (../source-normalizer, ../source-settings, ../source-actions).',
            },
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'bench/dist/', 'coverage/', 'node_modules/', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  ...IMPORT_RULES,
  {
    files: ['*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The operator console: browser code, built by vite (console/vite.config.mjs). It reads
    // only the admin API, and of src/ only the canonical model's plain constants.
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!canonical/)',
              message: 'The console talks to the router through the admin API only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['console/vite.config.mjs'],
    languageOptions: { sourceType: 'module', globals: { process: 'writable', URL: 'readonly' } },
  },
  {
    files: ['examples/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', fetch: 'readonly' },
    },
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
