// Mutation testing (npm run test:mutation; docs/mutation-testing.md): StrykerJS breaks the
// guards on purpose, one at a time, and runs the tests that cover each change.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  mutate: [
    "src/core/**/*.ts",
    "src/intake/**/*.ts",
    "src/ledger/**/*.ts",
    "src/log/logger.ts",
    "src/http/admin-auth.ts",
    "src/runner-vm/render-user-data.ts",
  ],
  coverageAnalysis: "perTest",
  // A static mutant (a module-level constant) reruns every test; their score is not worth that.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  // Stryker rewrites the tsconfig's extends/references with TypeScript's JS API, which the
  // native TypeScript 7 compiler does not have; ours has neither, so it points at no file.
  tsconfigFile: "tsconfig.stryker-none.json",
  cleanTempDir: "always",
};
