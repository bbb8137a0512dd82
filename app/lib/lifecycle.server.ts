/**
 * Shutdown hooks shared through `globalThis`: the web entry (tsx) and the Remix server bundle
 * (Vite) are two module graphs, but both register closers here so SIGTERM closes every pool.
 */
type Closer = { name: string; close: () => Promise<void> | void };

declare global {
  var stockguardClosers: Closer[] | undefined;
}

export function onShutdown(name: string, close: Closer["close"]): void {
  globalThis.stockguardClosers ??= [];
  globalThis.stockguardClosers.push({ name, close });
}

export async function runShutdown(timeoutMs = 10_000): Promise<string[]> {
  const closers = (globalThis.stockguardClosers ?? []).reverse();
  globalThis.stockguardClosers = [];
  const failures: string[] = [];
  await Promise.race([
    Promise.all(
      closers.map(async ({ name, close }) => {
        try {
          await close();
        } catch {
          failures.push(name);
        }
      }),
    ),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ]);
  return failures;
}
