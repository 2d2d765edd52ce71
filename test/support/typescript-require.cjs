/* global require, setImmediate */
/**
 * Lets a child process forked by code under test (a transform sandbox) require the TypeScript
 * source it was forked from: Jest compiles TypeScript in its own module system, which a child
 * does not share. jest.config.js preloads this through NODE_OPTIONS. TypeScript is loaded for
 * the first .ts file only, and let go once the process has started, so it does not stay in a
 * sandbox's capped heap.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a preload script is CommonJS
const { readFileSync } = require('node:fs');

let typescript;

require.extensions['.ts'] = (module, filename) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  typescript ??= require('typescript');
  const { outputText } = typescript.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: {
      module: typescript.ModuleKind.CommonJS,
      target: typescript.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  module._compile(outputText, filename);
};

setImmediate(() => {
  if (!typescript) return;
  typescript = undefined;
  delete require.cache[require.resolve('typescript')];
});
