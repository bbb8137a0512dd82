import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildIsStale, ensureBuild } from "../../app/lib/build.server";
import { ROOT, TSX } from "../helpers/paths";

/** A checkout-shaped directory whose build is missing (sources only). */
function staleCheckout(): string {
  const root = mkdtempSync(path.join(tmpdir(), "sg-build-"));
  mkdirSync(path.join(root, "app"));
  writeFileSync(path.join(root, "app", "root.tsx"), "export {};\n");
  writeFileSync(path.join(root, "vite.config.ts"), "export default {};\n");
  return root;
}

/** A stand-in for vite:build: counts itself, takes a while, then writes the server entry. */
const FAKE_BUILD = (root: string) => `
  appendFileSync(${JSON.stringify(path.join(root, "builds"))}, "built\\n");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
  mkdirSync(${JSON.stringify(path.join(root, "build", "server"))}, { recursive: true });
  writeFileSync(${JSON.stringify(path.join(root, "build", "server", "index.js"))}, "");
  return true;
`;

describe("ensureBuild", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it("builds once when several processes find the same checkout stale at once; the others say they wait", async () => {
    const root = staleCheckout();
    roots.push(root);
    const script = path.join(root, "child.ts");
    const startAt = Date.now() + 1_500; // every child calls ensureBuild at the same moment
    writeFileSync(
      script,
      `import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
       import { ensureBuild } from ${JSON.stringify(path.join(ROOT, "app", "lib", "build.server.ts"))};
       while (Date.now() < ${startAt}) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
       const ok = ensureBuild(
         ${JSON.stringify(root)},
         (line) => appendFileSync(${JSON.stringify(path.join(root, "log"))}, line + "\\n"),
         () => { ${FAKE_BUILD(root)} },
       );
       process.exit(ok ? 0 : 1);`,
    );
    const codes = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<number | null>((resolve) =>
            spawn(TSX, [script], { stdio: "inherit" }).on("exit", resolve),
          ),
      ),
    );
    expect(codes).toEqual([0, 0, 0]);
    expect(readFileSync(path.join(root, "builds"), "utf8")).toBe("built\n");
    expect(buildIsStale(root)).toBe(false);
    // One says it builds; the two others say they wait for it (and then find it fresh).
    const lines = readFileSync(path.join(root, "log"), "utf8").trim().split("\n").sort();
    expect(lines).toEqual([
      "building the Remix app (build/ missing or stale)",
      "waiting for another process's build of this checkout (.build-lock)",
      "waiting for another process's build of this checkout (.build-lock)",
    ]);
  }, 30_000);

  it("takes over a lock left by a builder that died long ago, and releases its own", () => {
    const root = staleCheckout();
    roots.push(root);
    const lock = path.join(root, ".build-lock");
    mkdirSync(lock);
    const old = new Date(Date.now() - 11 * 60_000);
    utimesSync(lock, old, old);
    let builds = 0;
    const ok = ensureBuild(root, undefined, () => {
      builds++;
      mkdirSync(path.join(root, "build", "server"), { recursive: true });
      writeFileSync(path.join(root, "build", "server", "index.js"), "");
      return true;
    });
    expect({ ok, builds }).toEqual({ ok: true, builds: 1 });
    expect(() => mkdirSync(lock)).not.toThrow(); // released
  });

  it("reports a failed build and releases the lock", () => {
    const root = staleCheckout();
    roots.push(root);
    expect(ensureBuild(root, undefined, () => false)).toBe(false);
    expect(() => mkdirSync(path.join(root, ".build-lock"))).not.toThrow();
  });
});
