/**
 * Data of the admin product block (extensions/stockguard-product-block): GET with the admin's ID
 * token (the block's fetch adds `Authorization: Bearer …`; CORS for the admin origin), the
 * product GID as `?product=` → the product's stock across channels as JSON.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";
import {
  productStock,
  ProductStockError,
  ZProductStockQuery,
} from "../services/flow/product-block.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, cors } = await authenticate.admin(request);
  const query = ZProductStockQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success)
    return cors(Response.json({ message: query.error.issues[0]?.message }, { status: 400 }));
  try {
    return cors(Response.json(await productStock(session.shop, query.data.product)));
  } catch (error) {
    if (error instanceof ProductStockError)
      return cors(Response.json({ message: error.message }, { status: error.status }));
    throw error;
  }
};

/** The admin's CORS preflight (OPTIONS reaches the action): answered by `authenticate.admin`. */
export const action = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  return new Response(null, { status: 405, headers: { Allow: "GET" } });
};
