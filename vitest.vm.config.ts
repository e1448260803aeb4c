import { defineConfig } from "vitest/config";

// The real runner VM suite (npm run test:vm): Debian booted under QEMU software emulation.
// Each VM takes one to three minutes; two run at once, which is what two cores can carry.
export default defineConfig({
  test: {
    include: ["test/vm/**/*.test.ts"],
    globalSetup: ["test/vm/global-setup.ts"],
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    maxConcurrency: 2,
    pool: "forks",
  },
});
