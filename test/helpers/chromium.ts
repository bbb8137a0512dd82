/**
 * The Chromium the browser tests (and the screenshot command) drive.
 *
 * Debian's `/usr/bin/chromium` when it is installed (or `CHROMIUM_PATH` when set); otherwise the
 * build shipped inside the `@sparticuz/chromium` npm package (its tarball carries the binary, so
 * `npm ci` is all a fresh machine needs — no download at install or first run). The package
 * unpacks its brotli-compressed binary into the temp directory on first use. Browser tests never
 * skip: if neither exists they fail with this message.
 */
import { existsSync } from "node:fs";

export type ChromiumLaunch = { executablePath: string; args: string[]; source: string };

/** Flags every launch needs on this closed machine (see the env notes in the README). */
const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
  "--no-zygote",
];

export async function resolveChromium(): Promise<ChromiumLaunch> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return { executablePath: configured, args: COMMON_ARGS, source: "CHROMIUM_PATH" };
  }
  if (existsSync("/usr/bin/chromium")) {
    return { executablePath: "/usr/bin/chromium", args: COMMON_ARGS, source: "system" };
  }
  try {
    const { default: packaged } = await import("@sparticuz/chromium");
    const executablePath = await packaged.executablePath();
    return { executablePath, args: COMMON_ARGS, source: "@sparticuz/chromium" };
  } catch (error) {
    throw new Error(
      `no Chromium: /usr/bin/chromium is missing and @sparticuz/chromium could not be unpacked (${(error as Error).message}). Run npm ci.`,
    );
  }
}
