/**
 * Shopify Flow action "Pause channel sync" (extensions/pause-channel-sync, runtime_url): raw body
 * and signature → one service call → Flow's status code and JSON message.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { flowActionResponse } from "../services/flow/http.server";

export const loader = () => new Response(null, { status: 405, headers: { Allow: "POST" } });

export const action = ({ request }: ActionFunctionArgs) =>
  flowActionResponse("pause-channel-sync", request);
