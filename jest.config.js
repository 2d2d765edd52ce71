/** Unit specs sit beside the code; end-to-end specs boot the app on real Postgres and Redis. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: {
        '^.+\\.ts$': tsJest,
        // An ESM-only dependency of @fastify/static (the /docs assets) that Jest 29 cannot require.
        '/node_modules/content-disposition/.+\\.js$': [
          'ts-jest',
          { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' } },
        ],
      },
      transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
