/**
 * `npm run cli -- <command>`: operator commands for self-hosted installs and the sandbox.
 * Every command validates its input, prints a result (JSON with --json), and exits non-zero with
 * a one-line reason on failure.
 */
import { Command, CommanderError } from "commander";
import { z, ZodError } from "zod";
import { ChannelError } from "../channels/errors";
import { DomainError } from "../domain/errors";
import { disconnectDb } from "../db.server";
import { env } from "../env.server";
import { runShutdown } from "../lib/lifecycle.server";
import { defineBundle } from "../services/bundles.server";
import { connectChannel } from "../services/connect-channel.server";
import { createLinkCode, linkInstalledStore } from "../services/link-stores.server";
import { releaseHolds } from "../services/release-holds.server";
import {
  disconnectChannel,
  pauseChannel,
  pauseSync,
  resumeChannel,
  startSync,
} from "../services/sync-control.server";
import { findItemBySku, mapUnmatchedLine } from "../services/unmatched.server";
import {
  callbackUrl,
  completeAuthorization,
  connectWithKeys,
  startAuthorization,
} from "../services/connect-marketplace.server";
import { applyAllRecommendations, setServiceLevel } from "../services/recommendations.server";
import { SERVICE_LEVELS } from "../services/recommendations-vocabulary";
import { createRule } from "../services/rules.server";
import { connectShopAndImport } from "../services/shop-connect.server";
import { findShop } from "../services/shops.server";
import { shopStatus } from "../services/status.server";

process.env.STOCKGUARD_PROCESS ??= "cli";
process.env.LOG_LEVEL ??= "warn";

/** Where a secret may come from, most private first. */
const TOKEN_ENV = "STOCKGUARD_TOKEN";

type TokenOptions = { token?: string; tokenStdin?: boolean };

/**
 * A token from stdin (`--token-stdin`), from STOCKGUARD_TOKEN, or — kept for the sandbox
 * contract, with a warning — from `--token` (visible in `ps` and shell history).
 */
export async function readToken(
  opts: TokenOptions,
  stdin: AsyncIterable<Buffer | string> = process.stdin,
): Promise<string | undefined> {
  if (opts.tokenStdin) {
    let text = "";
    for await (const chunk of stdin) {
      text += chunk.toString();
      if (text.length > 4096) throw new Error("the token on stdin is longer than 4096 characters");
    }
    return text.trim();
  }
  if (opts.token !== undefined) {
    process.stderr.write(
      `warning: --token exposes the token in ps and shell history; prefer --token-stdin or ${TOKEN_ENV}\n`,
    );
    return opts.token;
  }
  return process.env[TOKEN_ENV];
}

function print(value: unknown, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (typeof value === "string") process.stdout.write(`${value}\n`);
  else
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      process.stdout.write(`${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}\n`);
    }
}

export function buildProgram(): Command {
  const program = new Command("stockguard")
    .description("StockGuard operator commands (run with `npm run cli -- <command>`)")
    .showHelpAfterError();

  program
    .command("shop:connect")
    .description(
      "Register a store with an Admin API access token and import its catalog and source-location quantities",
    )
    .requiredOption("--shop <domain>", "the store's myshopify.com domain")
    .option("--token-stdin", "read the store's Admin API access token from stdin")
    .option(
      "--token <admin-api-token>",
      `the token as an argument (visible in ps; prefer --token-stdin or ${TOKEN_ENV})`,
    )
    .option("--json", "print JSON", false)
    .action(async (opts: { shop: string; json: boolean } & TokenOptions) => {
      const token = await readToken(opts);
      if (!token) throw new Error(`an Admin API token is required (--token-stdin or ${TOKEN_ENV})`);
      const result = await connectShopAndImport({ shop: opts.shop, token });
      print(result, opts.json);
    });

  program
    .command("channel:connect")
    .description("Connect a sales channel to a shop; prints the connection id")
    .requiredOption("--shop <domain>", "the shop (source store) whose stock the channel sells")
    .requiredOption("--kind <kind>", "shopify | amazon | ebay | walmart")
    .option("--store <domain>", "shopify: the other store's myshopify.com domain")
    .option("--token-stdin", "shopify: read that store's Admin API access token from stdin")
    .option(
      "--token <admin-api-token>",
      `shopify: the token as an argument (visible in ps; prefer --token-stdin or ${TOKEN_ENV})`,
    )
    .option(
      "--webhook-secret <secret>",
      "shopify (token stores): the custom app's API secret key, which signs that store's webhooks",
    )
    .option(
      "--location <gid>",
      "shopify: the location to write quantities to (default: first online location)",
    )
    .option("--name <name>", "display name")
    .option(
      "--api-base-url <url>",
      "marketplaces: the API origin (default: the real host; a local server in the sandbox)",
    )
    .option(
      "--follow-consent",
      "marketplaces: open the consent page and follow its redirects here (a seller already signed in, or the sandbox)",
      false,
    )
    .option(
      "--setting <key=value>",
      "marketplaces: a connection setting (repeatable), e.g. marketplaceId=ATVPDKIKX0DER",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      "--client-id <id>",
      `walmart: the seller's client id (its secret from --token-stdin or ${TOKEN_ENV})`,
    )
    .option("--json", "print JSON", false)
    .action(
      async (
        opts: {
          shop: string;
          kind: string;
          store?: string;
          webhookSecret?: string;
          location?: string;
          name?: string;
          apiBaseUrl?: string;
          followConsent: boolean;
          clientId?: string;
          setting: string[];
          json: boolean;
        } & TokenOptions,
      ) => {
        if (opts.kind !== "shopify") {
          const result = await connectMarketplaceFromCli(opts);
          if (opts.json) print(result, true);
          else process.stdout.write(`${result.connectionId}\n`);
          return;
        }
        const token = await readToken(opts);
        if (!token) {
          // No token: the store installed StockGuard; link it with its own session.
          if (!opts.store) throw new Error("--store is required for a Shopify channel");
          const linked = await linkInstalledStore(opts.shop, opts.store);
          if (opts.json) print(linked, true);
          else process.stdout.write(`${linked.connectionId}\n`);
          return;
        }
        if (!opts.webhookSecret)
          throw new Error(
            "--webhook-secret is required with a token: the custom app's API secret key, which signs that store's webhooks",
          );
        const result = await connectChannel({
          kind: opts.kind as "shopify",
          shop: opts.shop,
          store: opts.store ?? "",
          token,
          webhookSecret: opts.webhookSecret,
          locationId: opts.location,
          name: opts.name,
        });
        if (opts.json) print(result, true);
        else process.stdout.write(`${result.connectionId}\n`);
      },
    );

  program
    .command("rule:set")
    .description("Create or change a buffer rule (one per scope and kind) and republish")
    .requiredOption("--shop <domain>", "the shop")
    .requiredOption(
      "--kind <kind>",
      "reserve_units | percent_of_ats | max_shown | zero_at_or_below",
    )
    .requiredOption("--value <n>", "units, or percent for percent_of_ats")
    .option("--channel <connection-id>", "only this connection (default: every channel)")
    .option("--sku <sku>", "only this SKU (default: every SKU)")
    .option("--json", "print JSON", false)
    .action(
      async (opts: {
        shop: string;
        kind: string;
        value: string;
        channel?: string;
        sku?: string;
        json: boolean;
      }) => {
        const shop = await findShop(opts.shop);
        if (!shop) throw new Error(`unknown shop ${opts.shop}`);
        const rule = await createRule(shop.id, {
          kind: opts.kind as "reserve_units",
          value: Number(opts.value),
          connectionId: opts.channel ?? null,
          sku: opts.sku ?? null,
        });
        print(
          {
            id: rule.id,
            kind: rule.kind,
            value: rule.value,
            connectionId: rule.connectionId,
            sku: rule.sku,
          },
          opts.json,
        );
      },
    );

  program
    .command("recommend:apply")
    .description(
      "Apply every buffer StockGuard recommends now (the Recommendations page's accept all), logged",
    )
    .requiredOption("--shop <domain>", "the shop")
    .option(
      "--service-level <p>",
      `first set the shop's service level (the page's setting): ${SERVICE_LEVELS.join(", ")}`,
    )
    .option("--json", "print JSON", false)
    .action(async (opts: { shop: string; json: boolean; serviceLevel?: string }) => {
      const shop = await findShop(opts.shop);
      if (!shop) throw new Error(`unknown shop ${opts.shop}`);
      if (opts.serviceLevel !== undefined) {
        await setServiceLevel(shop.id, Number(z.enum(SERVICE_LEVELS).parse(opts.serviceLevel)));
      }
      print(await applyAllRecommendations(shop.id, "cli:recommend:apply"), opts.json);
    });

  const shopCommand = (
    name: string,
    description: string,
    run: (shop: string) => Promise<unknown>,
  ) =>
    program
      .command(name)
      .description(description)
      .requiredOption("--shop <domain>", "the shop")
      .option("--json", "print JSON", false)
      .action(async (opts: { shop: string; json: boolean }) => {
        print((await run(opts.shop)) ?? { ok: true }, opts.json);
      });
  shopCommand(
    "sync:start",
    "Start the shop's sync: every channel is written (a shop installed from Shopify starts paused)",
    (shop) => startSync(shop),
  );
  shopCommand(
    "sync:pause",
    "Pause every write of the shop (webhooks are still recorded; sync:start catches up)",
    (shop) => pauseSync(shop),
  );
  shopCommand(
    "holds:release",
    "Move every unit StockGuard holds on the source store (reserved, safety_stock) back to available, and pause sync (before uninstalling)",
    (shop) => releaseHolds(shop),
  );
  shopCommand(
    "link:code",
    "Create a one-time code another store that installed StockGuard enters to become a sales channel",
    (shop) => createLinkCode(shop),
  );

  const channelCommand = (
    name: string,
    description: string,
    run: (shop: string, connectionId: string) => Promise<unknown>,
  ) =>
    program
      .command(name)
      .description(description)
      .requiredOption("--shop <domain>", "the shop")
      .requiredOption("--channel <connection-id>", "the channel's connection id (see status)")
      .option("--json", "print JSON", false)
      .action(async (opts: { shop: string; channel: string; json: boolean }) => {
        print((await run(opts.shop, opts.channel)) ?? { ok: true }, opts.json);
      });
  channelCommand("channel:pause", "Pause writes to one channel", pauseChannel);
  channelCommand("channel:resume", "Resume a paused channel and catch it up", resumeChannel);
  channelCommand(
    "channel:disconnect",
    "Disconnect a channel: writes stop, its credentials are deleted, its history is kept",
    disconnectChannel,
  );

  program
    .command("bundle:set")
    .description("Define a bundle or multipack: the listing's components (SKU × units per set)")
    .requiredOption("--shop <domain>", "the shop")
    .requiredOption("--channel <connection-id>", "the channel the listing is on")
    .requiredOption("--sku <sku>", "the listing's SKU on that channel")
    .requiredOption(
      "--component <sku=units>",
      "a component (repeatable), e.g. --component TEE-S=2",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--json", "print JSON", false)
    .action(
      async (opts: {
        shop: string;
        channel: string;
        sku: string;
        component: string[];
        json: boolean;
      }) => {
        const components = opts.component.map((pair) => {
          const at = pair.lastIndexOf("=");
          const quantity = Number(pair.slice(at + 1));
          if (at <= 0 || !Number.isInteger(quantity))
            throw new Error(`--component takes SKU=units, not ${pair}`);
          return { sku: pair.slice(0, at), quantity };
        });
        print(
          await defineBundle({
            shopDomain: opts.shop,
            connectionId: opts.channel,
            sku: opts.sku,
            components,
          }),
          opts.json,
        );
      },
    );

  program
    .command("unmatched:map")
    .description("Map an unmatched order line to a stock item; the line is then applied once")
    .requiredOption("--shop <domain>", "the shop")
    .requiredOption("--line <id>", "the unmatched line's id (see status --json)")
    .requiredOption("--sku <sku>", "the stock item's SKU")
    .option("--json", "print JSON", false)
    .action(async (opts: { shop: string; line: string; sku: string; json: boolean }) => {
      if (!/^\d+$/.test(opts.line)) throw new Error("--line is a number");
      const item = await findItemBySku(opts.shop, opts.sku);
      if (!item) throw new Error(`unknown SKU ${opts.sku}`);
      print(
        await mapUnmatchedLine({
          shopDomain: opts.shop,
          unmatchedId: BigInt(opts.line),
          itemId: item.id,
          actor: "cli",
        }),
        opts.json,
      );
    });

  program
    .command("status")
    .description("Per connection: listings, last push, pending pushes, failures")
    .requiredOption("--shop <domain>", "the shop")
    .option("--json", "print JSON", false)
    .action(async (opts: { shop: string; json: boolean }) => {
      const report = await shopStatus(opts.shop);
      if (!report) throw new Error(`unknown shop ${opts.shop}`);
      if (opts.json) {
        print(report, true);
        return;
      }
      process.stdout.write(
        `${report.shop} (${report.status}${report.syncEnabled ? "" : ", sync paused"}): ${report.items} items, ` +
          `${report.incidents.total} oversell incidents (${report.incidents.oversoldUnits} units), ` +
          `${report.unmatchedLines} unmatched order lines, ${report.pendingReceipts} receipts pending\n`,
      );
      for (const c of report.connections) {
        process.stdout.write(
          `  ${c.role === "source" ? "source" : "sales "} ${c.kind} ${c.account} [${c.status}${c.statusReason ? `: ${c.statusReason}` : ""}] ` +
            `listings=${c.listings} pending=${c.pendingPushes} lastPush=${c.lastPushAt ?? "never"} failures=${c.openFailures}\n`,
        );
        for (const f of c.recentFailures)
          process.stdout.write(`      ${f.at} ${f.kind}: ${f.reason}\n`);
      }
    });

  return program;
}

/**
 * A marketplace from the terminal. Keys (Walmart): the client id and its secret. Consent
 * (Amazon, eBay): the consent URL is printed on stderr; the seller approves it in a browser and
 * pastes the address the marketplace sent the browser back to (stdin) — or `--follow-consent`
 * follows the redirects itself.
 */
async function connectMarketplaceFromCli(
  opts: {
    shop: string;
    kind: string;
    apiBaseUrl?: string;
    followConsent: boolean;
    clientId?: string;
    setting: string[];
  } & TokenOptions,
) {
  const apiBaseUrl = opts.apiBaseUrl ?? null;
  const settings = Object.fromEntries(
    opts.setting.map((pair) => {
      const at = pair.indexOf("=");
      if (at <= 0) throw new Error(`--setting takes key=value, not ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  if (opts.kind === "walmart") {
    const secret = await readToken(opts);
    if (!opts.clientId || !secret)
      throw new Error(`walmart needs --client-id and its secret (--token-stdin or ${TOKEN_ENV})`);
    return connectWithKeys({
      shopDomain: opts.shop,
      kind: opts.kind,
      keys: { clientId: opts.clientId, clientSecret: secret },
      apiBaseUrl,
      settings,
    });
  }
  const { consentUrl } = await startAuthorization({
    shopDomain: opts.shop,
    kind: opts.kind,
    apiBaseUrl,
    settings,
  });
  process.stderr.write(`Authorize StockGuard at:\n  ${consentUrl}\n`);
  const returned = opts.followConsent
    ? await followRedirects(consentUrl, callbackUrl(opts.kind as "amazon"))
    : await readLine("Paste the address your browser was sent back to: ");
  return completeAuthorization({ kind: opts.kind, params: new URL(returned).searchParams });
}

/** Follows a consent page's redirects until they reach `callback` (not fetched: we complete it). */
async function followRedirects(start: string, callback: string): Promise<string> {
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(callback)) return url;
    const response = await fetch(url, { redirect: "manual" });
    const location = response.headers.get("location");
    if (!location)
      throw new Error(
        `the consent page answered ${response.status} without a redirect; approve it in a browser`,
      );
    url = new URL(location, url).toString();
  }
  throw new Error("too many redirects from the consent page");
}

async function readLine(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  let text = "";
  for await (const chunk of process.stdin) {
    text += chunk.toString();
    if (text.includes("\n")) break;
  }
  return text.trim();
}

function describe(error: unknown): string {
  if (error instanceof ZodError) {
    return error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
  }
  if (error instanceof ChannelError) return `${error.name}: ${error.message}`;
  if (error instanceof DomainError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

async function main(argv: string[]): Promise<number> {
  env();
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`error: ${describe(error)}\n`);
    return 1;
  } finally {
    await runShutdown(3_000);
    await disconnectDb();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main(process.argv).then((code) => process.exit(code));
}
