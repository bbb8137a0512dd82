import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import prisma from "../db.server";
import { requireSandbox, sandboxCredentials } from "../sandbox/sandbox.server";
import { mintSessionToken } from "../sandbox/session-token.server";
import { ZShopDomain } from "../services/shop-connect.server";

/**
 * The demo's way into the embedded admin: what the Shopify admin does when it opens an app —
 * load `/app` with `shop`, `host` and a session token — for a shop installed in the sandbox.
 */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  requireSandbox();
  const shop = ZShopDomain.safeParse(new URL(request.url).searchParams.get("shop") ?? "");
  if (!shop.success) return new Response("shop must be a *.myshopify.com domain", { status: 400 });
  const installed = await prisma.shop.findUnique({ where: { domain: shop.data } });
  if (!installed || installed.status !== "active")
    return new Response("unknown shop", { status: 404 });
  const host = Buffer.from(`admin.shopify.com/store/${shop.data.split(".")[0]}`).toString(
    "base64url",
  );
  const params = new URLSearchParams({
    embedded: "1",
    shop: shop.data,
    host,
    id_token: mintSessionToken({ shop: shop.data, ...sandboxCredentials() }),
  });
  throw redirect(`/app?${params.toString()}`);
};
