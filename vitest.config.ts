import { defineConfig } from "vitest/config";

// Two tiers: unit tests beside the code need nothing; integration and end-to-end tests
// run against the real testbed that the global setup starts (or reuses).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{api,operator,runtime,cli,bench}/**/*.test.ts", "test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/{smoke,integration,e2e}/**/*.test.ts"],
          globalSetup: ["testbed/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Two cores: files run in parallel would fight over them and the servers.
          fileParallelism: false,
        },
      },
    ],
  },
});
