/**
 * The web's memory of a database outage (decision 0023). After a delivery found PostgreSQL
 * unreachable, the next deliveries go straight to the spool for 250 ms instead of each paying
 * a failed connection (or, against a database that hangs rather than refuses, the pool's 5 s
 * connect timeout, which is all of Shopify's patience). Then one delivery at a time tries the
 * database again; the first that reaches it ends the outage.
 */
const HOLD_MS = 250;
/** A trial that never reported back (a path that returned early) stops blocking the next. */
const TRIAL_MS = 6_000;

let outage: { until: number; trialSince: number | null } | null = null;

/** True: spool this delivery without trying the database. False: go ahead (maybe as the trial). */
export function spoolWithoutTrying(now = Date.now()): boolean {
  if (!outage) return false;
  if (now < outage.until) return true;
  if (outage.trialSince !== null && now - outage.trialSince < TRIAL_MS) return true;
  outage.trialSince = now;
  return false;
}

/** A delivery found the database unreachable: hold the next ones for a moment. */
export function databaseUnreachable(now = Date.now()): void {
  outage = { until: now + HOLD_MS, trialSince: null };
}

/** The database answered (whatever it said): deliveries use it again. */
export function databaseAnswered(): void {
  outage = null;
}

/** While an outage is remembered (deliveries are being spooled). */
export function databaseOutageKnown(): boolean {
  return outage !== null;
}
