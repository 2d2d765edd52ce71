/* global require, module */
/**
 * Jest 29 runs CommonJS; a few dependencies ship ESM only (@nestjs/terminus 12), which Node
 * itself loads through require(esm). This turns such a file into CommonJS: `import.meta` becomes
 * its CommonJS equivalent, then TypeScript rewrites the imports and exports.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a Jest transformer is CommonJS
const ts = require('typescript');

const IMPORT_META = [
  // A module-level `require` made from import.meta.url: CommonJS already has one.
  [/^\s*const require = createRequire\(import\.meta\.url\);?\s*$/gm, ''],
  [/import\.meta\.dirname/g, '__dirname'],
  [/import\.meta\.filename/g, '__filename'],
  [/import\.meta\.resolve\(/g, 'require.resolve('],
  [/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href"],
];

module.exports = {
  process(source, filename) {
    const commonJsReady = IMPORT_META.reduce(
      (text, [pattern, replacement]) => text.replace(pattern, replacement),
      source,
    );
    const { outputText } = ts.transpileModule(commonJsReady, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        allowJs: true,
      },
    });
    return { code: outputText };
  },
};
