/** `/sandbox/id-token` (sandbox only): a fresh session token for an installed shop, as App Bridge's `idToken()`. */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireSandbox, sandboxCredentials } from "../sandbox/sandbox.server";
import { mintSessionToken } from "../sandbox/session-token.server";
import { isShopActive } from "../services/admin/shop.server";
import { ZShopDomain } from "../services/shop-connect.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  requireSandbox();
  const shop = ZShopDomain.safeParse(new URL(request.url).searchParams.get("shop") ?? "");
  if (!shop.success) return new Response("shop must be a *.myshopify.com domain", { status: 400 });
  if (!(await isShopActive(shop.data))) return new Response("unknown shop", { status: 404 });
  return new Response(mintSessionToken({ shop: shop.data, ...sandboxCredentials() }), {
    headers: { "Content-Type": "text/plain", "Cache-Control": "no-store" },
  });
};
