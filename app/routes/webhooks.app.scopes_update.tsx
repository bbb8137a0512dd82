/**
 * `app/scopes_update` (shopify.app.toml): keeps the stored offline session's scope current.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { updateSessionScopes } from "../services/shops.server";
import { authenticateWebhook, badPayload } from "../webhooks/authenticate.server";

const ZScopesUpdate = z.object({ current: z.array(z.string().max(100)).max(100) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { payload, session } = await authenticateWebhook(request);
  const parsed = ZScopesUpdate.safeParse(payload);
  if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
  if (session) await updateSessionScopes(session.id, parsed.data.current);
  return new Response(null, { status: 200 });
};
