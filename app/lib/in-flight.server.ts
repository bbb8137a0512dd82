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
  await settledWithin(Promise.allSettled([...inFlight]), timeoutMs);
}

/**
 * Resolves once `work` has settled (fulfilled or rejected), or after `timeoutMs`, whichever comes
 * first; never rejects. The timer is cleared, and never keeps the process alive.
 */
export async function settledWithin(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs).unref())),
  ]).finally(() => clearTimeout(timer));
}
