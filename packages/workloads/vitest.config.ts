import { defineConfig } from "vitest/config";

// Timeouts only guard against a hang: a test that takes seconds idle may take several times
// that on a busy machine, and that must not fail it.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
