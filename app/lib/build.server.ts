/**
 * Builds the Remix app when `build/` is missing or older than its sources (the web entry and
 * the test setup call `ensureBuild`, so a fresh clone needs no separate build step). It returns
 * false when the build failed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
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

export function ensureBuild(root: string, log: (line: string) => void = () => {}): boolean {
  if (!buildIsStale(root)) return true;
  log("building the Remix app (build/ missing or stale)");
  const result = spawnSync("npx", ["remix", "vite:build"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return result.status === 0;
}
