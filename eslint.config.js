import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["build/**", "node_modules/**", ".cache/**", "coverage/**", "test-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        fetch: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    // The domain core is pure: no I/O, no clock, no framework.
    files: ["app/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            "@prisma/*",
            "bullmq",
            "ioredis",
            "@shopify/*",
            "node:*",
            "~/services/*",
            "../services/*",
            "../repositories/*",
            "../channels/*",
            "../queues/*",
          ],
        },
      ],
      "no-restricted-globals": ["error", "fetch", "setTimeout", "setInterval"],
      "no-restricted-properties": ["error", { object: "Date", property: "now" }],
    },
  },
  {
    files: ["test/**/*.ts", "**/*.test.ts", "**/*.test.tsx", "prisma/**/*.ts", "app/cli/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
