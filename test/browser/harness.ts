import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PrismaClient } from "@prisma/client";
import { Queue } from "bullmq";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { resolveChromium } from "../helpers/chromium";
import { createPrismaClient, disconnectDb } from "../../app/db.server";
import { resetEnvCache } from "../../app/env.server";
import { closeSqlPool } from "../../app/lib/sql.server";
import { freePort, waitFor } from "../e2e/world";
import { appProcessEnv } from "../helpers/app-env";
import {
  createTestDatabase,
  dropRedisPrefix,
  dropTestDatabase,
  REDIS_URL,
} from "../setup/services";
import { APP_BRIDGE_STUB } from "../../app/sandbox/app-bridge-stub";
import { mintSessionToken } from "../../app/sandbox/session-token.server";
import { ROOT, TSX } from "../helpers/paths";

/**
 * The embedded admin as Shopify's admin iframe would load it, on one machine: the real web
 * process (`app/web-server.ts`, production build) on a fresh database cloned from the migrated
 * template, a BullMQ prefix of its own, and Debian's Chromium. Nothing on the server is mocked;
 * the browser gets App Bridge from a stub (see app-bridge-stub.ts) and session tokens minted
 * with the app's secret, exactly what the admin would hand the app.
 */
export { ROOT };
export const RESULTS_DIR = path.join(ROOT, "test-results");

/** The app's client id and secret (a local Shopify configures the same app with them). */
export const API_KEY = "browser-test-api-key";
export const API_SECRET = `browser-test-secret-${randomUUID()}`;

export type AdminHarness = {
  baseUrl: string;
  /** The first of `shops`: the one pages open as unless told otherwise. */
  shop: string;
  prisma: PrismaClient;
  databaseUrl: string;
  queuePrefix: string;
  page: Page;
  context: BrowserContext;
  /** Blocked requests to hosts other than the app (should stay empty of surprises). */
  blocked: string[];
  /** Browser console errors and uncaught page errors. */
  pageErrors: string[];
  /** The environment the web (and worker) process run with. */
  env: NodeJS.ProcessEnv;
  /** A fresh session token for the shop the browser is currently signed in as. */
  token(): string;
  /** The URL the admin iframe would open for `pathname` (shop, host, embedded, id_token). */
  embeddedUrl(pathname: string, options?: OpenOptions): string;
  /**
   * Loads `pathname` as the admin does (a document request with an id_token), signed in as
   * `options.shop` from then on, and waits for hydration.
   */
  open(pathname: string, options?: OpenOptions): Promise<void>;
  /** A full-page PNG in test-results/ (or `dir`). */
  screenshot(name: string, dir?: string): Promise<string>;
  logs(): string;
  close(): Promise<void>;
};

export type OpenOptions = { shop?: string; search?: Record<string, string> };

/**
 * Starts everything for one test file. `shops` get an offline session each (as after install);
 * `seed` fills the fresh database. The test process itself also points the app's database
 * helpers (`applyLedgerEvent`, …) at that database, so tests can cause ledger events directly.
 */
export async function startAdmin(options: {
  /**
   * Shops that get an offline session before the web starts (as after an install). Empty: the
   * admin's first request installs the shop by token exchange with `SHOPIFY_ADMIN_API_ORIGIN`
   * (the merchant path).
   */
  shops: string[];
  seed?: (prisma: PrismaClient) => Promise<void>;
  /** Extra environment for the web (and worker) process. */
  env?: Record<string, string>;
  /** false: App Bridge's idToken() goes to the app's own /sandbox/id-token instead. */
  tokenBinding?: boolean;
  /** The web's port (free one by default); a local Shopify's app URL must be known first. */
  port?: number;
  /** Start the worker process too (imports, pushes, ingest). */
  worker?: boolean;
}): Promise<AdminHarness> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error("browser harness cleanup failed:", error);
      }
    }
  };
  try {
    const database = await createTestDatabase("sg_t");
    cleanups.push(() => dropTestDatabase(database.name));
    const prisma = createPrismaClient(database.url, 4);
    cleanups.push(() => prisma.$disconnect());
    const queuePrefix = `sgbr-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => dropRedisPrefix(queuePrefix));

    // This process's own ledger access (sql pool, Prisma singleton) goes to the same database.
    process.env.DATABASE_URL = database.url;
    resetEnvCache();
    await closeSqlPool();
    await disconnectDb();
    cleanups.push(async () => {
      await closeSqlPool();
      await disconnectDb();
    });

    await options.seed?.(prisma);
    // The offline session the app stores at install: with it, authenticate.admin needs no token
    // exchange with Shopify (no expiry, so no refresh either).
    for (const shop of options.shops) {
      await prisma.session.create({
        data: {
          id: `offline_${shop}`,
          shop,
          state: "",
          isOnline: false,
          scope: "read_inventory,write_inventory,read_locations,read_orders,read_products",
          accessToken: `shpat_${shop.split(".")[0]}`,
        },
      });
    }

    const port = options.port ?? (await freePort());
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = appProcessEnv({
      port,
      databaseUrl: database.url,
      redisUrl: REDIS_URL,
      queuePrefix,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      encryptionKey: Buffer.alloc(32, 5).toString("base64"),
      // The sandbox sign-in exists only outside production.
      nodeEnv: options.env?.STOCKGUARD_SANDBOX === "1" ? "development" : "production",
      // A worker's metrics port of its own (other test processes may be running one).
      extra: { ...(options.worker ? { WORKER_METRICS_PORT: "0" } : {}), ...options.env },
    });
    const output: string[] = [];
    const spawnApp = (file: string, name: string): ChildProcess => {
      const child = spawn(TSX, [file], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      const collect = (chunk: Buffer) => {
        output.push(`[${name}] ${chunk.toString()}`);
        if (output.length > 2_000) output.splice(0, 500);
      };
      child.stdout!.on("data", collect);
      child.stderr!.on("data", collect);
      cleanups.push(() => stopProcess(child));
      return child;
    };
    const web = spawnApp("app/web-server.ts", "web");
    // Building the Remix app (when build/ is stale) happens inside this wait.
    await waitFor(
      async () => {
        if (web.exitCode !== null)
          throw new Error(`web exited with ${web.exitCode}\n${output.join("")}`);
        return (await fetch(`${baseUrl}/healthz`).catch(() => null))?.ok === true;
      },
      240_000,
      "the web process",
      () => output.join(""),
    );

    if (options.worker) {
      const probe = new Queue("push", { connection: { url: REDIS_URL }, prefix: queuePrefix });
      try {
        const worker = spawnApp("workers/main.ts", "worker");
        await waitFor(
          async () => {
            if (worker.exitCode !== null)
              throw new Error(`worker exited with ${worker.exitCode}\n${output.join("")}`);
            return (await probe.getWorkers()).length > 0;
          },
          120_000,
          "the worker process",
          () => output.join(""),
        );
      } finally {
        await probe.close();
      }
    }

    const userDataDir = mkdtempSync(path.join(tmpdir(), "sg-chromium-"));
    cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
    const browser = await resolveChromium();
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.executablePath,
      headless: true,
      args: browser.args,
      viewport: { width: 1280, height: 900 },
      // shopify-app-remix answers bots (isbot matches "HeadlessChrome") with 410 Gone; the admin
      // iframe is always a regular browser.
      userAgent:
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
      timezoneId: "UTC",
      locale: "en-US",
    });
    cleanups.push(() => context.close());
    context.setDefaultTimeout(15_000);
    context.setDefaultNavigationTimeout(30_000);

    let currentShop = options.shops[0] ?? "";
    const token = () =>
      mintSessionToken({ shop: currentShop, apiKey: API_KEY, apiSecret: API_SECRET });
    if (options.tokenBinding !== false) await context.exposeFunction("__mintIdToken", token);
    const blocked: string[] = [];
    const page = context.pages()[0] ?? (await context.newPage());
    await context.route("**/*", async (route) => {
      const url = new URL(route.request().url());
      if (url.origin === baseUrl) return route.continue();
      if (url.href.startsWith("https://cdn.shopify.com/shopifycloud/app-bridge.js")) {
        return route.fulfill({
          status: 200,
          contentType: "text/javascript",
          body: APP_BRIDGE_STUB,
        });
      }
      blocked.push(url.href);
      // A top-level navigation away from the app (a marketplace's consent page) lands on a stub
      // page, so the tab ends in a known state whatever the Chromium build does with an abort.
      if (route.request().isNavigationRequest() && route.request().frame() === page.mainFrame())
        return route.fulfill({
          status: 200,
          contentType: "text/html",
          body: "<!doctype html><title>External page</title><p>External page (not loaded in tests)</p>",
        });
      return route.abort("blockedbyclient");
    });
    const pageErrors: string[] = [];
    // Each with the page it happened on (which page broke is half the diagnosis).
    const where = () => new URL(page.url()).pathname;
    page.on("pageerror", (error) => pageErrors.push(`${where()}: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(`${where()}: ${message.text()}`);
    });

    const embeddedUrl = (pathname: string, open: OpenOptions = {}) => {
      const shop = open.shop ?? currentShop;
      const host = Buffer.from(`admin.shopify.com/store/${shop.split(".")[0]}`).toString("base64");
      const url = new URL(pathname, baseUrl);
      for (const [k, v] of Object.entries(open.search ?? {})) url.searchParams.set(k, v);
      url.searchParams.set("shop", shop);
      url.searchParams.set("host", host);
      url.searchParams.set("embedded", "1");
      url.searchParams.set(
        "id_token",
        mintSessionToken({ shop, apiKey: API_KEY, apiSecret: API_SECRET }),
      );
      return url.toString();
    };
    mkdirSync(RESULTS_DIR, { recursive: true });

    return {
      baseUrl,
      shop: options.shops[0] ?? "",
      prisma,
      databaseUrl: database.url,
      queuePrefix,
      page,
      context,
      blocked,
      pageErrors,
      env,
      token,
      embeddedUrl,
      open: async (pathname, open = {}) => {
        currentShop = open.shop ?? options.shops[0] ?? currentShop;
        const response = await page.goto(embeddedUrl(pathname, open), {
          waitUntil: "networkidle",
        });
        if (!response?.ok()) {
          throw new Error(
            `GET ${pathname} answered ${response?.status()}\n${(await response?.text())?.slice(0, 2_000)}`,
          );
        }
        // Hydrated: Remix has taken over the document.
        await page.waitForFunction(() => "__remixRouter" in window);
      },
      screenshot: async (name, dir = RESULTS_DIR) => {
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        return file;
      },
      logs: () => output.join(""),
      close: runCleanups,
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The page errors a test did not expect: a blocked external request (App Bridge's CDN), a refused
 * answer with one of `statuses` (the browser logs each as a failed load), and a data load
 * cancelled because the test moved on before it finished ("BodyStreamBuffer was aborted": Remix
 * aborts a revalidation when a newer navigation starts; reported as a page error or, with its
 * stack, on the console) are not bugs. Anything else (hydration mismatches, uncaught errors) is.
 */
export function unexpectedPageErrors(errors: readonly string[], statuses: readonly number[]) {
  const refused = new RegExp(
    `Failed to load resource: the server responded with a status of (${statuses.join("|")})\\b`,
  );
  return errors.filter(
    (e) =>
      !e.includes("ERR_BLOCKED_BY_CLIENT") &&
      !/^[^:]*: (AbortError: )?BodyStreamBuffer was aborted(\n|$)/.test(e) &&
      !refused.test(e),
  );
}

/** Waits until App Bridge showed a toast containing `message` (the sandbox shell records them). */
export async function waitForToast(page: Page, message: string, timeoutMs?: number): Promise<void> {
  await page.waitForFunction(
    (m) =>
      ((window as unknown as { __appBridgeToasts?: { message: string }[] }).__appBridgeToasts ?? [])
        .map((t) => t.message)
        .some((t) => t.includes(m)),
    message,
    timeoutMs === undefined ? undefined : { timeout: timeoutMs },
  );
}

/** The table rows that contain `text`. */
export function rowWith(page: Page, text: string) {
  return page.getByRole("row").filter({ hasText: text });
}
