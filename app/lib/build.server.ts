/**
 * Builds the Remix app when `build/` is missing or older than its sources (the web entry and
 * the test setup call `ensureBuild`, so a fresh clone needs no separate build step). It returns
 * false when the build failed. Concurrent callers on one checkout build once (`withBuildLock`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(full));
    else if (/\.(tsx?|css|json)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

export function buildIsStale(root: string): boolean {
  const serverBuild = path.join(root, "build", "server", "index.js");
  const built = existsSync(serverBuild) ? statSync(serverBuild).mtimeMs : 0;
  const sources = Math.max(
    newestSourceMtime(path.join(root, "app")),
    statSync(path.join(root, "vite.config.ts")).mtimeMs,
  );
  return built < sources;
}

/** How long a build may hold the lock before another process takes it as abandoned. */
const LOCK_STALE_MS = 10 * 60_000;
/** How often a process waiting for another's build says it still waits. */
const WAIT_NOTICE_MS = 30_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * One builder at a time per checkout: web processes started together on a stale checkout (or a
 * test run and a bench) would otherwise run `vite:build` into the same `build/` at once, and one
 * could start on files the other is rewriting. The lock is a directory (mkdir is atomic); the
 * others wait, then find the build fresh. A lock older than LOCK_STALE_MS (a builder killed
 * mid-way) is taken over. A waiter says so when it starts waiting and every WAIT_NOTICE_MS
 * after, so a web that waits minutes for another process's build does not look hung.
 */
function withBuildLock<T>(root: string, fn: () => T, log: (line: string) => void): T {
  const lock = path.join(root, ".build-lock");
  const since = Date.now();
  let lastNotice: number | null = null;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let age: number;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released between the two calls
      }
      if (age > LOCK_STALE_MS) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      const now = Date.now();
      if (lastNotice === null || now - lastNotice >= WAIT_NOTICE_MS) {
        log(
          lastNotice === null
            ? "waiting for another process's build of this checkout (.build-lock)"
            : `still waiting for another process's build (${Math.round((now - since) / 1000)} s)`,
        );
        lastNotice = now;
      }
      sleepSync(200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function viteBuild(root: string): boolean {
  const result = spawnSync("npx", ["remix", "vite:build"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return result.status === 0;
}

export function ensureBuild(
  root: string,
  log: (line: string) => void = () => {},
  build: (root: string) => boolean = viteBuild,
): boolean {
  if (!buildIsStale(root)) return true;
  return withBuildLock(
    root,
    () => {
      // Another process may have built it while this one waited for the lock.
      if (!buildIsStale(root)) return true;
      log("building the Remix app (build/ missing or stale)");
      return build(root);
    },
    log,
  );
}
