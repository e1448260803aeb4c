import { defineConfig } from "vitest/config";

// The suites StrykerJS runs against each mutant (stryker.config.mjs): the in-process tests of
// the mutated rooms. Suites that start `dist/cli.js` in a child process cannot see a mutant.
export default defineConfig({
  test: {
    include: [
      "test/core/**/*.test.ts",
      "test/intake/**/*.test.ts",
      "test/ledger/**/*.test.ts",
      "test/log/**/*.test.ts",
      "test/http/*.test.ts",
      "test/runner-vm/**/*.test.ts",
    ],
    globalSetup: ["test/support/postgres-server.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
