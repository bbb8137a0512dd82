import type { LoaderFunctionArgs } from "@remix-run/node";
import prisma from "../db.server";
import { requireSandbox, sandboxCredentials } from "../sandbox/sandbox.server";
import { mintSessionToken } from "../sandbox/session-token.server";
import { ZShopDomain } from "../services/shop-connect.server";

/** A fresh session token for an installed shop, as App Bridge's `idToken()` (sandbox only). */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  requireSandbox();
  const shop = ZShopDomain.safeParse(new URL(request.url).searchParams.get("shop") ?? "");
  if (!shop.success) return new Response("shop must be a *.myshopify.com domain", { status: 400 });
  const installed = await prisma.shop.findUnique({ where: { domain: shop.data } });
  if (!installed || installed.status !== "active")
    return new Response("unknown shop", { status: 404 });
  return new Response(mintSessionToken({ shop: shop.data, ...sandboxCredentials() }), {
    headers: { "Content-Type": "text/plain", "Cache-Control": "no-store" },
  });
};
