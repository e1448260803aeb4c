import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The real VM suite takes minutes: npm run test:vm (vitest.vm.config.ts).
    exclude: ["test/vm/**", "node_modules/**"],
    globalSetup: ["test/support/postgres-server.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
