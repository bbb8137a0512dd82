/**
 * Shopify Flow action "Set StockGuard buffer" (extensions/set-stockguard-buffer, runtime_url):
 * raw body and signature → one service call → Flow's status code and JSON message.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { flowActionResponse } from "../services/flow/http.server";

export const loader = () => new Response(null, { status: 405, headers: { Allow: "POST" } });

export const action = ({ request }: ActionFunctionArgs) =>
  flowActionResponse("set-stockguard-buffer", request);
