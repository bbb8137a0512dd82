/**
 * `/sandbox/admin` (sandbox only): the demo's way into the embedded admin — what the Shopify
 * admin does when it opens an app: load `/app` with `shop`, `host` and a session token — for a
 * shop installed in the sandbox.
 */
import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { requireSandbox, sandboxCredentials } from "../sandbox/sandbox.server";
import { mintSessionToken } from "../sandbox/session-token.server";
import { isShopActive } from "../services/admin/shop.server";
import { ZShopDomain } from "../services/shop-connect.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  requireSandbox();
  const shop = ZShopDomain.safeParse(new URL(request.url).searchParams.get("shop") ?? "");
  if (!shop.success) return new Response("shop must be a *.myshopify.com domain", { status: 400 });
  if (!(await isShopActive(shop.data))) return new Response("unknown shop", { status: 404 });
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
