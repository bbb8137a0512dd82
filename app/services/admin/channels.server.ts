/**
 * The Channels page: the shop's connections with their status and reason, per channel Pause /
 * Resume / Disconnect, and every way to connect a channel from the admin — another Shopify store
 * linked with a one-time code (shown here, entered in that store's own StockGuard admin), a
 * custom-app store connected with its Admin API token, Amazon and eBay through their consent
 * pages, Walmart with its API keys. Validation here (field messages, nothing changed); the
 * use cases are the sync-control, link-stores, connect-channel and connect-marketplace services,
 * whose refusals become the form's message. Reads through `repositories/admin/channels.server.ts`.
 */
import { z } from "zod";
import type { ChannelKind } from "../../channels/channel-adapter";
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../../channels/errors";
import { adapterFor, isSupportedKind } from "../../channels/registry.server";
import { findLinkedSource, listShopChannels } from "../../repositories/admin/channels.server";
import { connectChannel, ConnectChannelError } from "../connect-channel.server";
import {
  ConnectError,
  connectWithKeys,
  MARKETPLACES,
  startAuthorization,
} from "../connect-marketplace.server";
import { createLinkCode, LinkError, linkWithCode } from "../link-stores.server";
import {
  disconnectChannel,
  pauseChannel,
  resumeChannel,
  SyncControlError,
} from "../sync-control.server";
import { refusal, STALE_PAGE, sentence, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

export type ChannelView = {
  id: string;
  name: string;
  kind: string;
  role: "source" | "sales";
  account: string;
  status: string;
  statusReason: string | null;
  /** How StockGuard reaches it: this store, a linked install, a token, marketplace keys. */
  access: "this store" | "linked install" | "Admin API token" | "authorised account" | "none";
  listings: number;
  lastPushAt: string | null;
};

export type MarketplaceOption = {
  kind: (typeof MARKETPLACES)[number];
  label: string;
  /** "redirect": a consent page; "keys": a form; null: not available in this version. */
  flow: "redirect" | "keys" | null;
  fields: { name: string; label: string; secret: boolean }[];
};

export type ChannelsPage = {
  shopDomain: string;
  /** The shop this store sells for, when it is linked (it manages nothing itself then). */
  linkedTo: string | null;
  channels: ChannelView[];
  /** The store may become another store's sales channel (not linked, no channels of its own). */
  canEnterLinkCode: boolean;
  marketplaces: MarketplaceOption[];
};

const MARKETPLACE_LABEL: Record<(typeof MARKETPLACES)[number], string> = {
  amazon: "Amazon",
  ebay: "eBay",
  walmart: "Walmart",
};

function marketplaceOptions(): MarketplaceOption[] {
  return MARKETPLACES.map((kind) => {
    let flow: MarketplaceOption["flow"] = null;
    let fields: MarketplaceOption["fields"] = [];
    try {
      if (isSupportedKind(kind as ChannelKind)) {
        const authorization = adapterFor(kind as ChannelKind).authorization;
        flow = authorization?.kind ?? null;
        if (authorization?.kind === "keys") fields = authorization.fields;
      }
    } catch {
      flow = null;
    }
    return { kind, label: MARKETPLACE_LABEL[kind], flow, fields };
  });
}

function access(c: {
  role: string;
  kind: string;
  hasCredentials: boolean;
  status: string;
}): ChannelView["access"] {
  if (c.role === "source") return "this store";
  if (c.hasCredentials) return c.kind === "shopify" ? "Admin API token" : "authorised account";
  if (c.kind === "shopify" && c.status !== "disconnected") return "linked install";
  return "none";
}

export async function getChannelsPage(shopDomain: string): Promise<ChannelsPage> {
  const shop = await requireShop(shopDomain);
  const [rows, linkedTo] = await Promise.all([
    listShopChannels({ shopId: shop.id }),
    findLinkedSource({ shopId: shop.id }),
  ]);
  const liveSales = rows.filter((r) => r.role === "sales" && r.status !== "disconnected");
  return {
    shopDomain: shop.domain,
    linkedTo,
    channels: rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      role: r.role,
      account: r.account,
      status: r.status,
      statusReason: r.statusReason,
      access: access(r),
      listings: r.listings,
      lastPushAt: r.lastPushAt?.toISOString() ?? null,
    })),
    canEnterLinkCode: linkedTo === null && liveSales.length === 0,
    marketplaces: marketplaceOptions(),
  };
}

/** "https://My-Store.myshopify.com/admin" → "my-store.myshopify.com"; anything else is refused. */
const ZStoreDomain = z.preprocess(
  (value) =>
    typeof value === "string"
      ? value
          .trim()
          .toLowerCase()
          .replace(/^https?:\/\//, "")
          .replace(/\/.*$/, "")
      : value,
  z
    .string({ error: "Enter the store's domain" })
    .min(1, "Enter the store's domain")
    .regex(
      /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/,
      "Enter the store's myshopify.com domain, like other-store.myshopify.com",
    ),
);

const required = (label: string) =>
  z
    .string({ error: `${label} is required` })
    .trim()
    .min(1, `${label} is required`)
    .max(2_000);

const connectionId = z.uuid(STALE_PAGE);

export const ZChannelsAction = z.discriminatedUnion(
  "intent",
  [
    z.object({ intent: z.literal("pause"), connectionId }),
    z.object({ intent: z.literal("resume"), connectionId }),
    z.object({ intent: z.literal("disconnect"), connectionId }),
    z.object({ intent: z.literal("create-link-code") }),
    z.object({
      intent: z.literal("enter-link-code"),
      code: z
        .string({ error: "Enter the link code" })
        .trim()
        .min(1, "Enter the link code")
        .regex(/^[A-Za-z0-9]{4}[\s-]?[A-Za-z0-9]{4}$/, "A link code looks like ABCD-2345"),
    }),
    z.object({
      intent: z.literal("connect-token"),
      store: ZStoreDomain,
      token: required("The Admin API access token"),
      webhookSecret: required("The webhook signing secret"),
    }),
    z.object({ intent: z.literal("authorize"), kind: z.enum(["amazon", "ebay"], STALE_PAGE) }),
    z.object({
      intent: z.literal("connect-keys"),
      kind: z.literal("walmart", STALE_PAGE),
      clientId: required("Client ID"),
      clientSecret: required("Client secret"),
    }),
  ],
  { error: STALE_PAGE },
);
export type ChannelsAction = z.infer<typeof ZChannelsAction>;

export type ChannelsActionResult = {
  ok: true;
  intent: ChannelsAction["intent"];
  message: string;
  /** create-link-code: the code to read out, once (only its hash is stored). */
  code?: string;
  expiresAt?: string;
  /** authorize: the marketplace page the top window goes to. */
  consentUrl?: string;
};

const REFUSALS = [
  SyncControlError,
  LinkError,
  ConnectChannelError,
  ConnectError,
  ChannelPermanentError,
] as const;

/** A channel's own answer (a refused token, an outage) as the form's message. */
function channelFailure(error: unknown, intent: string, who: string): FormFailure {
  const fail = (message: string): FormFailure => ({
    ok: false,
    intent,
    fieldErrors: {},
    formError: message,
    status: 422,
  });
  if (error instanceof ChannelAuthError)
    return fail(`${who} refused the credentials: ${error.message}`);
  if (error instanceof ChannelThrottledError || error instanceof ChannelRetryableError)
    return fail(`${who} did not answer in time (${error.message}); nothing was changed, try again`);
  if (error instanceof ChannelPermanentError) return fail(sentence(error.message));
  return refusal(error, intent, REFUSALS);
}

export async function performChannelsAction(input: {
  shopDomain: string;
  action: ChannelsAction;
}): Promise<ChannelsActionResult | FormFailure> {
  const { shopDomain, action } = input;
  const intent = action.intent;
  const page = await getChannelsPage(shopDomain);
  const ok = (message: string, extra: Partial<ChannelsActionResult> = {}) =>
    ({ ok: true, intent, message, ...extra }) satisfies ChannelsActionResult;
  const named = (id: string) => page.channels.find((c) => c.id === id)?.name ?? "The channel";
  if (page.linkedTo && intent !== "enter-link-code") {
    return {
      ok: false,
      intent,
      fieldErrors: {},
      formError: `This store sells ${page.linkedTo}'s stock: its channels are managed in ${page.linkedTo}'s StockGuard admin`,
      status: 422,
    };
  }
  try {
    switch (action.intent) {
      case "pause":
        await pauseChannel(shopDomain, action.connectionId);
        return ok(`${named(action.connectionId)} paused`);
      case "resume":
        await resumeChannel(shopDomain, action.connectionId);
        return ok(`${named(action.connectionId)} resumed`);
      case "disconnect":
        await disconnectChannel(shopDomain, action.connectionId);
        return ok(`${named(action.connectionId)} disconnected`);
      case "create-link-code": {
        const { code, expiresAt } = await createLinkCode(shopDomain);
        return ok("Link code created", { code, expiresAt: expiresAt.toISOString() });
      }
      case "enter-link-code": {
        const linked = await linkWithCode(shopDomain, action.code);
        return ok(`Linked: this store now sells ${linked.sourceDomain}'s stock`);
      }
      case "connect-token": {
        const connected = await connectChannel({
          kind: "shopify",
          shop: shopDomain,
          store: action.store,
          token: action.token,
          webhookSecret: action.webhookSecret,
        });
        return ok(
          `${action.store} connected: ${connected.import.listings} listing${connected.import.listings === 1 ? "" : "s"} matched by SKU`,
        );
      }
      case "authorize": {
        const { consentUrl } = await startAuthorization({ shopDomain, kind: action.kind });
        return ok(`Opening ${MARKETPLACE_LABEL[action.kind]}…`, { consentUrl });
      }
      case "connect-keys": {
        const connected = await connectWithKeys({
          shopDomain,
          kind: action.kind,
          keys: { clientId: action.clientId, clientSecret: action.clientSecret },
        });
        return ok(
          `${connected.name} connected: ${connected.import.listings} listing${connected.import.listings === 1 ? "" : "s"} matched by SKU`,
        );
      }
    }
  } catch (error) {
    const who =
      action.intent === "connect-token"
        ? action.store
        : action.intent === "authorize" || action.intent === "connect-keys"
          ? MARKETPLACE_LABEL[action.kind]
          : "The channel";
    return channelFailure(error, intent, who);
  }
}
