/** Unit specs sit beside the code; end-to-end specs boot the app on real Postgres and Redis. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

// @nestjs/terminus 12 ships ESM only (Node loads it through require(esm); Jest 29 cannot).
const terminusTransform = {
  '/node_modules/@nestjs/terminus/.+\\.js$': '<rootDir>/test/support/esm-package-transform.cjs',
};

// An ESM-only dependency of @fastify/static (the /docs and /console files) that Jest 29 cannot require.
const contentDispositionTransform = {
  '/node_modules/content-disposition/.+\\.js$': [
    'ts-jest',
    { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' } },
  ],
};

// Transform sandboxes are child processes forked from the TypeScript sources under test.
const { env } = require('node:process');
const typescriptRequire = `--require "${require('node:path').join(module.path, 'test/support/typescript-require.cjs')}"`;
if (!(env.NODE_OPTIONS ?? '').includes(typescriptRequire)) {
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} ${typescriptRequire}`.trim();
}

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest, ...terminusTransform, ...contentDispositionTransform },
      transformIgnorePatterns: ['/node_modules/(?!content-disposition/|@nestjs/terminus/)'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: {
        '^.+\\.ts$': tsJest,
        ...terminusTransform,
        ...contentDispositionTransform,
      },
      transformIgnorePatterns: ['/node_modules/(?!content-disposition/|@nestjs/terminus/)'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};

/**
 * Fault injection under load (test/faults: minutes long, starts its own Redis and Postgres). Only
 * with RUN_FAULTS=1, which `npm run test:faults` sets, so a plain `npm test` never runs it.
 * Transformed exactly as the e2e project is.
 */
if (env.RUN_FAULTS === '1') {
  const e2e = module.exports.projects.find((project) => project.displayName === 'e2e');
  module.exports.projects.push({
    displayName: 'faults',
    testEnvironment: 'node',
    roots: ['<rootDir>/test/faults'],
    testMatch: ['**/*.fault-spec.ts'],
    transform: e2e.transform,
    transformIgnorePatterns: e2e.transformIgnorePatterns,
  });
}
