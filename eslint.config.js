import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Lint: typescript-eslint's recommended rules plus the type-checked promise rules (a floating
 * promise is a lost error), and the layers of docs/ARCHITECTURE.md as import restrictions:
 * domain imports nothing with I/O; services never import a concrete channel, SQL or Prisma;
 * routes and webhook handlers import services, never repositories, SQL or Prisma.
 */
const SQL_AND_PRISMA = [
  {
    group: ["**/lib/sql.server", "**/db.server", "@prisma/client"],
    message: "SQL and Prisma live in app/repositories/.",
  },
];
const CONCRETE_CHANNELS = [
  {
    group: [
      "**/channels/shopify/**",
      "**/channels/amazon/**",
      "**/channels/ebay/**",
      "**/channels/walmart/**",
    ],
    message:
      "Services speak to channels through the port and the registry (app/channels/registry.server.ts).",
  },
];

export default tseslint.config(
  {
    ignores: [
      "build/**",
      "node_modules/**",
      ".cache/**",
      "coverage/**",
      "test-results/**",
      "extensions/**/dist/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
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
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": [
        "error",
        { checksVoidReturn: { attributes: false } },
      ],
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
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
            "**/services/**",
            "**/repositories/**",
            "**/channels/**",
            "**/queues/**",
            "**/lib/**",
            "**/*.server",
          ],
        },
      ],
      "no-restricted-globals": ["error", "fetch", "setTimeout", "setInterval"],
      "no-restricted-properties": ["error", { object: "Date", property: "now" }],
    },
  },
  {
    // Services: use cases. I/O only through repositories, queues and the channel registry.
    files: ["app/services/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [...SQL_AND_PRISMA, ...CONCRETE_CHANNELS] }],
    },
  },
  {
    // Routes and webhook handlers: authenticate → parse → one service call → respond.
    files: ["app/routes/**/*.ts", "app/routes/**/*.tsx", "app/webhooks/**/*.ts"],
    ignores: ["app/webhooks/shopify-inbound.server.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...SQL_AND_PRISMA,
            { group: ["**/repositories/**"], message: "Routes call services, not repositories." },
            ...CONCRETE_CHANNELS,
          ],
        },
      ],
    },
  },
  {
    // The Shopify webhook edge may read Shopify's topic list (header vocabulary), nothing else.
    files: ["app/webhooks/shopify-inbound.server.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...SQL_AND_PRISMA,
            { group: ["**/repositories/**"], message: "Routes call services, not repositories." },
          ],
        },
      ],
    },
  },
  {
    files: ["test/**/*.ts", "**/*.test.ts", "**/*.test.tsx", "prisma/**/*.ts", "app/cli/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
