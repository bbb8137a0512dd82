import { defineConfig } from "vitest/config";
import tsconfigPaths from "vite-tsconfig-paths";

/**
 * Test projects (run all with `npm test`):
 * - unit: pure code and route handlers with fakes (no services needed);
 * - integration: real Postgres and Redis, one database and one queue prefix per test file;
 * - e2e: web + worker + local channel servers, as the sandbox contract describes;
 * - browser: the embedded admin in Debian's Chromium via playwright-core.
 */
export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    environment: "node",
    globalSetup: ["test/setup/global-setup.ts"],
    setupFiles: ["test/setup/env.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "app/**/*.test.ts",
            "app/**/*.test.tsx",
            "test/unit/**/*.test.ts",
            "test/sandbox/**/*.test.ts",
          ],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          setupFiles: ["test/setup/env.ts", "test/setup/database.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 120_000,
          fileParallelism: false,
          // A page's next state under CI load (the other projects run beside this one) can take
          // seconds: expect.poll's default of 1 s failed a count page still working through a
          // scanner's five queued entries. A state that never comes still fails.
          expect: { poll: { timeout: 20_000 } },
        },
      },
    ],
  },
});
