/**
 * Every admin input error is a 4xx with a readable message, never a 500, and changes nothing:
 * the admin's loaders and actions called as Remix calls them, with a session-token request for
 * a shop seeded in this file's own database (as the embedded admin sends it).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as health from "../../app/routes/app.health";
import * as incidents from "../../app/routes/app.incidents";
import * as item from "../../app/routes/app.inventory.$itemId";
import * as inventory from "../../app/routes/app.inventory._index";
import * as rules from "../../app/routes/app.rules";
import { mintSessionToken } from "../../app/sandbox/session-token.server";
import { seedShop, type SeededShop } from "../factories/shop";

type Answer = { status: number; body: Record<string, unknown> | string };
type Handler = (args: {
  request: Request;
  params: Record<string, string>;
  context: object;
}) => Promise<unknown>;

/** What the browser would receive: a thrown Response, `data(…, { status })`, or plain data. */
async function answer(handler: Handler, request: Request, params: Record<string, string> = {}) {
  let result: unknown;
  try {
    result = await handler({ request, params, context: {} });
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    result = thrown;
  }
  if (result instanceof Response) {
    const text = await result.text();
    return { status: result.status, body: text } satisfies Answer;
  }
  if (result && typeof result === "object" && "init" in result && "data" in result) {
    const withInit = result as { init: { status?: number } | null; data: Record<string, unknown> };
    return { status: withInit.init?.status ?? 200, body: withInit.data } satisfies Answer;
  }
  return { status: 200, body: result as Record<string, unknown> } satisfies Answer;
}

let shop: SeededShop;
let itemId: string;
let locationId: string;

function adminRequest(path: string, form?: Record<string, string>, domain = shop.domain): Request {
  const token = mintSessionToken({
    shop: domain,
    apiKey: process.env.SHOPIFY_API_KEY!,
    apiSecret: process.env.SHOPIFY_API_SECRET!,
  });
  return new Request(`https://stockguard.test${path}`, {
    method: form ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}` },
    body: form ? new URLSearchParams(form) : undefined,
  });
}

/** Everything an admin action could change: movements, balances, rules, failures. */
async function ledgerState() {
  const [movements, levels, rules, openFailures] = await Promise.all([
    prisma.movement.findMany({ orderBy: { id: "asc" } }),
    prisma.stockLevel.findMany({
      orderBy: { id: "asc" },
      select: {
        id: true,
        onHand: true,
        committed: true,
        held: true,
        damaged: true,
        safetyStock: true,
      },
    }),
    prisma.bufferRule.findMany({ orderBy: { id: "asc" } }),
    prisma.syncFailure.count({ where: { resolvedAt: null } }),
  ]);
  return { movements: movements.length, levels, rules: rules.length, openFailures };
}

/** Runs `call`, expects `status`, and that the ledger is exactly as before. */
async function refused(status: number, call: () => Promise<Answer>): Promise<Answer> {
  const before = await ledgerState();
  const result = await call();
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(await ledgerState()).toEqual(before);
  return result;
}

const fieldErrors = (a: Answer) =>
  (a.body as { fieldErrors?: Record<string, string> }).fieldErrors ?? {};
const filterErrors = (a: Answer) =>
  (a.body as { filterErrors?: Record<string, string> }).filterErrors ?? {};

/** Messages a merchant can read: no zod internals, no SQL, no stack. */
function expectReadable(message: string | undefined) {
  expect(message).toBeTruthy();
  expect(message).not.toMatch(
    /Invalid (option|input|string|discriminator)|expected one of|\/\^|Prisma|uuid|SQL/i,
  );
}

const adjust = (fields: Record<string, string>) => ({
  intent: "adjust",
  key: randomUUID(),
  locationId,
  reason: "cycle count",
  ...fields,
});

beforeAll(async () => {
  shop = await seedShop(prisma, { items: [{ sku: "A-1", onHand: 5 }] });
  itemId = shop.itemIds.get("A-1")!;
  locationId = shop.locationIds[0]!;
  await prisma.session.create({
    data: {
      id: `offline_${shop.domain}`,
      shop: shop.domain,
      state: "",
      isOnline: false,
      scope: process.env.SCOPES,
      accessToken: "shpat_test",
    },
  });
});

describe("item detail: unknown ids are 404", () => {
  it("answers a non-UUID item id with 404 on the page and on its actions", async () => {
    const page = await refused(404, () =>
      answer(item.loader as Handler, adminRequest("/app/inventory/abc"), { itemId: "abc" }),
    );
    expect(page.body).toBe("Stock item not found");
    const posted = await refused(404, () =>
      answer(item.action as Handler, adminRequest("/app/inventory/abc", adjust({ delta: "1" })), {
        itemId: "abc",
      }),
    );
    expect(posted.body).toBe("Stock item not found");
  });

  it("answers an item id of no item in this shop with 404 on its actions", async () => {
    const other = await seedShop(prisma, { items: [{ sku: "B-1", onHand: 3 }] });
    for (const id of [randomUUID(), other.itemIds.get("B-1")!]) {
      await refused(404, () =>
        answer(
          item.action as Handler,
          adminRequest(`/app/inventory/${id}`, adjust({ delta: "1" })),
          { itemId: id },
        ),
      );
    }
  });
});

describe("item actions: numbers beyond what on hand can hold are 400", () => {
  const post = (form: Record<string, string>) =>
    answer(item.action as Handler, adminRequest(`/app/inventory/${itemId}`, form), { itemId });

  it("refuses an adjustment whose on hand would exceed 1,000,000,000", async () => {
    const result = await refused(400, () => post(adjust({ delta: "1000000000" })));
    expect(fieldErrors(result).delta).toMatch(/would exceed 1,000,000,000 units/);
    expectReadable(fieldErrors(result).delta);
  });

  it("refuses an adjustment whose on hand would go below zero", async () => {
    const result = await refused(400, () => post(adjust({ delta: "-6" })));
    expect(fieldErrors(result).delta).toMatch(
      /On hand is 5 here: removing 6 units would leave it below 0/,
    );
  });

  it("refuses a change beyond ±1,000,000,000 before looking at the stock", async () => {
    for (const delta of ["2147483648", "-1000000001", "99999999999999999999"]) {
      const result = await refused(400, () => post(adjust({ delta })));
      expectReadable(fieldErrors(result).delta);
    }
  });

  it("refuses a safety stock beyond 1,000,000,000 or below zero", async () => {
    for (const quantity of ["1000000001", "2147483648", "-1"]) {
      const result = await refused(400, () =>
        post({ intent: "safety_stock", key: randomUUID(), locationId, quantity }),
      );
      expect(fieldErrors(result).quantity).toMatch(/Safety stock must be at (most|least)/);
    }
  });

  it("refuses numbers that are not whole numbers", async () => {
    for (const delta of ["abc", "1.5", "1e3", "", "0x10"]) {
      const result = await refused(400, () => post(adjust({ delta })));
      expectReadable(fieldErrors(result).delta);
    }
    const inspect = await refused(400, () =>
      post({
        intent: "inspect",
        key: randomUUID(),
        locationId,
        outcome: "passed",
        quantity: "two",
      }),
    );
    expect(fieldErrors(inspect).quantity).toBe("Units must be a whole number");
  });

  it("refuses an unknown action or a tampered form with a readable message", async () => {
    const unknown = await refused(400, () => post({ intent: "teleport", key: randomUUID() }));
    expectReadable((unknown.body as { formError?: string }).formError);
    const outcome = await refused(400, () =>
      post({ intent: "inspect", key: randomUUID(), locationId, outcome: "maybe", quantity: "1" }),
    );
    expect(fieldErrors(outcome).outcome).toBe("Choose passed or failed");
  });

  it("refuses text PostgreSQL cannot store instead of failing in the database", async () => {
    const result = await refused(400, () => post(adjust({ delta: "1", reason: "count\u0000" })));
    expectReadable(fieldErrors(result).reason);
  });

  it("still applies an adjustment inside the range, and a double submit once", async () => {
    const before = await prisma.movement.count({ where: { itemId } });
    // Removing units needs the merchant's confirmation (the dialog sends confirmed=yes).
    const form = adjust({ delta: "-5", confirmed: "yes" });
    const first = await post(form);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, applied: true });
    // The same submission again: already applied, not refused for leaving on hand below zero.
    const again = await post(form);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ok: true, applied: false });
    expect(await prisma.movement.count({ where: { itemId } })).toBe(before + 1);
    const level = await prisma.stockLevel.findFirstOrThrow({ where: { itemId, locationId } });
    expect(level.onHand).toBe(0);
    expect((await post(adjust({ delta: "5" }))).status).toBe(200);
  });
});

describe("incidents: filters that cannot be read are 400 with a message", () => {
  const load = (query: string) =>
    answer(incidents.loader as Handler, adminRequest(`/app/incidents?${query}`));

  it("refuses a page cursor that is not an incident id", async () => {
    for (const before of ["1e25", "99999999999999999999999", "-1"]) {
      const result = await refused(400, () => load(`before=${encodeURIComponent(before)}`));
      expectReadable(filterErrors(result).before);
    }
  });

  it("refuses a date that is not in the calendar", async () => {
    const result = await refused(400, () => load("from=2026-13-45"));
    expect(filterErrors(result).from).toMatch(/From: that day is not in the calendar/);
    for (const to of ["2026-02-30", "0000-01-01", "26-11-2026"]) {
      const bad = await refused(400, () => load(`to=${to}`));
      expectReadable(filterErrors(bad).to);
    }
  });

  it("tells the merchant when From is after To instead of showing nothing", async () => {
    const result = await refused(400, () => load("from=2026-11-20&to=2026-11-10"));
    expect(filterErrors(result).to).toBe("To must be on or after From");
    expect((result.body as { filters: unknown }).filters).toMatchObject({
      cause: "all",
      from: "2026-11-20",
      to: "2026-11-10",
    });
  });

  it("refuses an unknown root cause with a friendly message", async () => {
    const result = await refused(400, () => load("cause=bogus"));
    expect(filterErrors(result).cause).toBe("Unknown root cause: choose one from the list");
  });

  it("accepts a well-formed range and a real cursor", async () => {
    const result = await load("cause=sync_delay&from=2026-11-10&to=2026-11-10&before=12");
    expect(result.status).toBe(200);
  });
});

describe("inventory list: unreadable query parameters are 400", () => {
  it("refuses a search or page cursor PostgreSQL cannot compare", async () => {
    for (const query of ["q=%00", "after=A%00", "before=%00"]) {
      const result = await refused(400, () =>
        answer(inventory.loader as Handler, adminRequest(`/app/inventory?${query}`)),
      );
      const errors = (result.body as { queryErrors: string[] }).queryErrors;
      expect(errors.length).toBeGreaterThan(0);
      for (const message of errors) expectReadable(message);
    }
  });
});

describe("buffer rules and sync health: bad input is 4xx with a message", () => {
  const rule = (fields: Record<string, string>) =>
    answer(
      rules.action as Handler,
      adminRequest("/app/rules", {
        intent: "create",
        connectionId: "all",
        sku: "",
        kind: "reserve_units",
        value: "1",
        ...fields,
      }),
    );

  it("refuses an unknown rule kind, a bad value and an unstorable SKU", async () => {
    const kind = await refused(400, () => rule({ kind: "bogus" }));
    expect(fieldErrors(kind).kind).toBe("Choose what the rule does");
    const value = await refused(400, () => rule({ value: "lots" }));
    expect(fieldErrors(value).value).toBe("Value must be a whole number");
    const big = await refused(400, () => rule({ value: "3000000000" }));
    expectReadable(fieldErrors(big).value);
    const sku = await refused(400, () => rule({ sku: "A-1\u0000" }));
    expectReadable(fieldErrors(sku).sku);
  });

  it("answers deleting a rule this shop does not have with 404", async () => {
    const result = await refused(404, () =>
      answer(
        rules.action as Handler,
        adminRequest("/app/rules", { intent: "delete", ruleId: randomUUID() }),
      ),
    );
    expect((result.body as { formError?: string }).formError).toMatch(
      /^That rule no longer exists/,
    );
    // Editing it (or previewing the edit) is a 404 too, and changes nothing.
    for (const step of ["preview", "apply"]) {
      const edited = await refused(404, () =>
        answer(
          rules.action as Handler,
          adminRequest("/app/rules", { intent: "update", ruleId: randomUUID(), value: "2", step }),
        ),
      );
      expect((edited.body as { formError?: string }).formError).toMatch(
        /^That rule no longer exists/,
      );
    }
  });

  it("answers an unknown failure or connection with 404 and a malformed id with 400", async () => {
    const post = (form: Record<string, string>) =>
      answer(health.action as Handler, adminRequest("/app/health", form));
    await refused(404, () => post({ intent: "resolve_failure", failureId: "123456" }));
    await refused(404, () => post({ intent: "reconcile", connectionId: randomUUID() }));
    const malformed = await refused(400, () =>
      post({ intent: "resolve_failure", failureId: "99999999999999999999" }),
    );
    expectReadable(fieldErrors(malformed).failureId);
  });
});
