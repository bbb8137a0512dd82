/**
 * Background work a web process started after answering (the receipts its fast lane applies,
 * decision 0011), shared through `globalThis`: the web entry (tsx) and the Remix server bundle
 * are two module graphs. On SIGTERM the web waits for it before closing its pools, so a deploy
 * does not leave that work to the sweeper.
 */
declare global {
  var stockguardInFlight: Set<Promise<unknown>> | undefined;
}

/** Tracks `work` until it settles. */
export function trackInFlight(work: Promise<unknown>): void {
  const inFlight = (globalThis.stockguardInFlight ??= new Set());
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work)).catch(() => undefined);
}

/** Resolves once everything tracked has settled, or after `timeoutMs`. */
export async function inFlightSettled(timeoutMs: number): Promise<void> {
  const inFlight = globalThis.stockguardInFlight;
  if (!inFlight || inFlight.size === 0) return;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ]);
}
