/**
 * `/connect/<marketplace>/callback`: where a marketplace sends the seller back after consent
 * (Amazon's website authorisation, eBay OAuth). The `state` must be one StockGuard issued, unused
 * and fresh; the code is exchanged for credentials, the connection created and its catalog
 * imported, and the seller is sent back to the app. Errors are shown, nothing is changed.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { shopifyEnv } from "../env.server";
import { log } from "../logger.server";
import { sandboxEnabled } from "../sandbox/sandbox.server";
import { completeAuthorization, ConnectError } from "../services/connect-marketplace.server";
import { findShopById } from "../services/shops.server";

const page = (status: number, title: string, body: string) =>
  new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:-apple-system,BlinkMacSystemFont,"San Francisco","Segoe UI",Roboto,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#303030}a{color:#005bd3}</style>
</head><body><h1>${title}</h1>${body}</body></html>`,
    { status, headers: { "Content-Type": "text/html; charset=utf-8" } },
  );

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const url = new URL(request.url);
  try {
    const connected = await completeAuthorization({
      kind: params.kind ?? "",
      params: url.searchParams,
    });
    const shop = await findShopById(connected.shopId);
    const back =
      shop && sandboxEnabled()
        ? `/sandbox/admin?shop=${encodeURIComponent(shop.domain)}`
        : shop
          ? `https://${shop.domain}/admin/apps/${shopifyEnv().SHOPIFY_API_KEY}/app/channels`
          : "/";
    return page(
      200,
      `${escape(connected.name)} is connected`,
      `<p>StockGuard matched ${connected.import.listings} listing(s) by SKU and will keep their quantities in sync.</p><p><a href="${escape(back)}">Back to StockGuard</a></p>`,
    );
  } catch (error) {
    if (!(error instanceof ConnectError)) {
      log({ kind: params.kind }).error(
        { err: (error as Error).message },
        "connect callback failed",
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return page(
      400,
      "The channel was not connected",
      `<p>${escape(message)}</p><p>Start again from StockGuard's Channels page.</p>`,
    );
  }
};
