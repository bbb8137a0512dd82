import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import prisma from "../db.server";
import { authenticateWebhook, badPayload } from "../webhooks/authenticate.server";

const ZScopesUpdate = z.object({ current: z.array(z.string()) });

// Handled here: app/scopes_update. Keeps the stored offline session's scope current.
export const action = async ({ request }: ActionFunctionArgs) => {
  const { payload, session } = await authenticateWebhook(request);
  const parsed = ZScopesUpdate.safeParse(payload);
  if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
  if (session) {
    await prisma.session.update({
      where: { id: session.id },
      data: { scope: parsed.data.current.join(",") },
    });
  }
  return new Response(null, { status: 200 });
};
