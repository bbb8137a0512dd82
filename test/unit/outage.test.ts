import { afterEach, describe, expect, it } from "vitest";
import {
  databaseAnswered,
  databaseOutageKnown,
  databaseUnreachable,
  spoolWithoutTrying,
} from "../../app/services/inbound/outage.server";

describe("the web's memory of a database outage", () => {
  afterEach(() => databaseAnswered());

  it("tries the database while no outage is known", () => {
    expect(spoolWithoutTrying(0)).toBe(false);
    expect(databaseOutageKnown()).toBe(false);
  });

  it("holds deliveries for 250 ms, then lets one at a time try again", () => {
    databaseUnreachable(1_000);
    expect(spoolWithoutTrying(1_100)).toBe(true);
    expect(spoolWithoutTrying(1_250)).toBe(false); // the trial
    expect(spoolWithoutTrying(1_251)).toBe(true); // others wait for it
    expect(spoolWithoutTrying(4_000)).toBe(true);
    // The trial failed: held again from then.
    databaseUnreachable(4_100);
    expect(spoolWithoutTrying(4_200)).toBe(true);
    expect(spoolWithoutTrying(4_350)).toBe(false);
    // It reached the database: everyone uses it again.
    databaseAnswered();
    expect(spoolWithoutTrying(4_351)).toBe(false);
    expect(spoolWithoutTrying(4_352)).toBe(false);
  });

  it("lets another delivery try when a trial never reports back", () => {
    databaseUnreachable(0);
    expect(spoolWithoutTrying(1_000)).toBe(false);
    expect(spoolWithoutTrying(6_999)).toBe(true);
    expect(spoolWithoutTrying(7_000)).toBe(false);
  });
});
