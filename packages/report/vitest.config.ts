import { defineConfig } from "vitest/config";

// Timeouts only guard against a hang: rendering charts and starting Chromium take seconds idle and
// several times that on a busy machine, which must not fail a test.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
