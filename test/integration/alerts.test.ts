import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { resetEnvCache } from "../../app/env.server";
import { resolveIncident } from "../../app/repositories/incidents.server";
import { openAlertsForBanner } from "../../app/services/alerts/banner.server";
import { deliverAlerts } from "../../app/services/alerts/deliver.server";
import { evaluateAlerts } from "../../app/services/alerts/evaluate.server";
import { saveAlertSettings } from "../../app/services/alerts/settings.server";
import { settleIncidents } from "../../app/services/incidents/settle.server";
import { ago, sell, twoChannels } from "./incident-helpers";

/**
 * Issue 13 part 4: alerts go to a real SMTP server (a local sink, `smtp-server`) and to a
 * Slack-compatible webhook (a local HTTP server), for a confirmed oversell, a channel not
 * written for N minutes with pending changes, drift found by reconcile and a failing
 * subscription — one alert per condition until it clears, per-shop settings, a digest option.
 */
type Mail = { to: string[]; subject: string; body: string };
const mails: Mail[] = [];
const hooks: { text: string; condition: string }[] = [];
let smtp: SMTPServer;
let http: Server;
let hookUrl = "";

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
      stream.on("end", () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          // Long headers are folded onto continuation lines: unfold before reading.
          subject: /^Subject: (.*)$/m.exec(raw.replace(/\r?\n[ \t]+/g, " "))?.[1]?.trim() ?? "",
          body: raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  process.env.SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
  resetEnvCache();
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      hooks.push(JSON.parse(body) as { text: string; condition: string });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await new Promise<void>((resolve) => http.close(() => resolve()));
  delete process.env.SMTP_URL;
  resetEnvCache();
});

async function oversoldShop() {
  const world = await twoChannels(1);
  const saved = await saveAlertSettings(world.shop.domain, {
    emailTo: "ops@example.com, boss@example.com",
    webhookUrl: hookUrl,
    staleMinutes: 15,
    conditions: ["oversell", "channel_stale", "drift", "subscription"],
    digest: false,
  });
  expect(saved.ok).toBe(true);
  await sell(world.shop.shopId, world.y.connectionId, "y1", world.sku, 1, ago(60_000));
  await sell(world.shop.shopId, world.x.connectionId, "x1", world.sku, 1, ago(59_900));
  await settleIncidents({ settleMs: 0, shopId: world.shop.shopId });
  return world;
}

describe("alerts", () => {
  it("e-mails and posts a confirmed oversell once, shows it on the banner, and clears it when resolved", async () => {
    const { shop } = await oversoldShop();
    mails.length = 0;
    hooks.length = 0;
    const first = await evaluateAlerts();
    expect(first).toMatchObject({ emails: 1, webhooks: 1, failures: 0 });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to.sort()).toEqual(["boss@example.com", "ops@example.com"]);
    expect(mails[0]!.subject).toMatch(/StockGuard alert: 1 unit of HOT oversold/);
    expect(hooks).toMatchObject([
      { condition: "oversell", text: expect.stringMatching(/1 unit of HOT oversold/) },
    ]);
    expect(await openAlertsForBanner(shop.domain)).toMatchObject([
      { condition: "oversell", title: "1 unit of HOT oversold" },
    ]);
    // No repeat while the condition holds.
    const again = await evaluateAlerts();
    expect(again).toMatchObject({ opened: 0, emails: 0, webhooks: 0 });
    expect(mails).toHaveLength(1);
    // The merchant resolves it: the alert clears; a new oversell would alert again.
    const incident = await prisma.oversellIncident.findFirstOrThrow({
      where: { shopId: shop.shopId, status: "confirmed" },
    });
    expect(
      await resolveIncident({
        shopId: shop.shopId,
        id: incident.id,
        note: "refunded the customer",
      }),
    ).toBe(true);
    const cleared = await evaluateAlerts();
    expect(cleared.cleared).toBeGreaterThanOrEqual(1);
    expect(await openAlertsForBanner(shop.domain)).toEqual([]);
  });

  it("alerts on a channel not written for N minutes with pending changes, drift, and a failing subscription", async () => {
    const { shop, x, y, sku } = await twoChannels(5);
    await saveAlertSettings(shop.domain, {
      emailTo: "ops@example.com",
      webhookUrl: "",
      staleMinutes: 10,
      conditions: ["channel_stale", "drift", "subscription"],
      digest: false,
    });
    const listingId = x.listingIds.get(sku)!;
    await prisma.listing.update({
      where: { id: listingId },
      data: { publishedVersion: { increment: 1 }, dirtySince: ago(11 * 60_000) },
    });
    await prisma.driftRecord.create({
      data: {
        shopId: shop.shopId,
        connectionId: y.connectionId,
        listingId: y.listingIds.get(sku)!,
        expected: 5,
        observed: 7,
        cause: "channel_changed",
      },
    });
    await prisma.syncFailure.create({
      data: {
        shopId: shop.shopId,
        connectionId: y.connectionId,
        kind: "subscription_missing",
        reason: "orders/create is not subscribed",
      },
    });
    mails.length = 0;
    await evaluateAlerts();
    const open = await prisma.alert.findMany({ where: { shopId: shop.shopId, clearedAt: null } });
    expect(open.map((a) => a.condition).sort()).toEqual(["channel_stale", "drift", "subscription"]);
    expect(mails.map((m) => m.subject).join("\n")).toMatch(
      /not written for over 10 minutes with 1 pending change/,
    );
    expect(mails).toHaveLength(3);
    // The write happens: the stale alert clears, the others stay (one each).
    await prisma.listing.update({
      where: { id: listingId },
      data: { pushedVersion: { increment: 1 }, dirtySince: null },
    });
    await evaluateAlerts();
    const still = await prisma.alert.findMany({ where: { shopId: shop.shopId, clearedAt: null } });
    expect(still.map((a) => a.condition).sort()).toEqual(["drift", "subscription"]);
    expect(mails).toHaveLength(3);
  });

  it("sends a digest: nothing until the oldest alert is an hour old, then one e-mail for all", async () => {
    const { shop } = await oversoldShop();
    await saveAlertSettings(shop.domain, {
      emailTo: "digest@example.com",
      webhookUrl: "",
      staleMinutes: 15,
      conditions: ["oversell", "drift"],
      digest: true,
    });
    const { x, sku } = {
      x: await prisma.connection.findFirstOrThrow({
        where: { shopId: shop.shopId, role: "sales" },
      }),
      sku: "HOT",
    };
    const listing = await prisma.listing.findFirstOrThrow({ where: { connectionId: x.id, sku } });
    await prisma.driftRecord.create({
      data: {
        shopId: shop.shopId,
        connectionId: x.id,
        listingId: listing.id,
        expected: 0,
        observed: 2,
        cause: "channel_changed",
      },
    });
    mails.length = 0;
    await evaluateAlerts();
    expect(mails.filter((m) => m.to.includes("digest@example.com"))).toHaveLength(0);
    await deliverAlerts(new Date(Date.now() + 2 * 3_600_000));
    const digests = mails.filter((m) => m.to.includes("digest@example.com"));
    expect(digests).toHaveLength(1);
    expect(digests[0]!.subject).toBe("StockGuard digest: 2 alerts");
  });

  it("refuses bad settings with a message per field and keeps the old ones", async () => {
    const { shop } = await twoChannels(1);
    const bad = await saveAlertSettings(shop.domain, {
      emailTo: "ops@example.com, not-an-address",
      webhookUrl: "http://hooks.example.com/x",
      staleMinutes: 0,
      conditions: ["oversell"],
      digest: false,
    });
    expect(bad).toMatchObject({
      ok: false,
      errors: {
        emailTo: expect.stringMatching(/e-mail/),
        webhookUrl: expect.stringMatching(/https/),
        staleMinutes: expect.any(String),
      },
    });
    expect(await prisma.alertSettings.findUnique({ where: { shopId: shop.shopId } })).toBeNull();
  });

  it("keeps an alert for another attempt when the SMTP server refuses it", async () => {
    const { shop } = await oversoldShop();
    await saveAlertSettings(shop.domain, {
      emailTo: "ops@example.com",
      webhookUrl: "",
      staleMinutes: 15,
      conditions: ["oversell"],
      digest: false,
    });
    process.env.SMTP_URL = "smtp://127.0.0.1:1";
    resetEnvCache();
    try {
      const outcome = await evaluateAlerts();
      expect(outcome.failures).toBeGreaterThanOrEqual(1);
    } finally {
      process.env.SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
      resetEnvCache();
    }
    const alert = await prisma.alert.findFirstOrThrow({
      where: { shopId: shop.shopId, condition: "oversell" },
    });
    expect(alert).toMatchObject({ emailSentAt: null, deliveryAttempts: 1 });
    expect(alert.lastError).toBeTruthy();
    mails.length = 0;
    await evaluateAlerts();
    expect(mails.filter((m) => m.to.includes("ops@example.com"))).toHaveLength(1);
  });
});
