/**
 * eBay-side time. `now()` is the real clock plus an offset that tests move forward
 * (`advance`, `advanceDays`): token expiry, order timestamps, authorization-code expiry and the
 * calendar day of the 250-revisions rule all read it. Delivery timers stay on real time (scaled
 * by `timeScale`).
 */
export const DAY_MS = 24 * 60 * 60 * 1000;

export class EbayClock {
  offsetMs = 0;
  private formatter: Intl.DateTimeFormat;

  constructor(private zone = "America/Los_Angeles") {
    this.formatter = EbayClock.formatterFor(zone);
  }

  private static formatterFor(zone: string): Intl.DateTimeFormat {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
  }

  get timeZone(): string {
    return this.zone;
  }

  set timeZone(zone: string) {
    this.formatter = EbayClock.formatterFor(zone); // throws RangeError on an unknown zone
    this.zone = zone;
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  iso(): string {
    return this.now().toISOString();
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  advanceDays(days = 1): void {
    this.offsetMs += days * DAY_MS;
  }

  /** The calendar day (YYYY-MM-DD in `timeZone`) of an instant, default now. */
  dayKey(at: number = this.nowMs()): string {
    return this.formatter.format(new Date(at));
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
