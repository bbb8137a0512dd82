/**
 * Per-shop alert settings: e-mail recipients, a Slack-compatible webhook URL, the minutes a
 * channel may go unwritten with pending changes, which conditions alert, and the digest option.
 * Validated here (zod) for the incidents page and any other caller.
 */
import { z } from "zod";
import { ALERT_CONDITIONS } from "./conditions";
import * as alerts from "../../repositories/alerts.server";
import { shopByDomain } from "../../repositories/shops.server";

const shopIdForDomain = async (domain: string) => (await shopByDomain(domain))?.id ?? null;

export { ALERT_CONDITIONS };

/** http is accepted only for a loopback host (a local relay, tests); anything else needs https. */
function webhookAllowed(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === "https:") return true;
    return (
      url.protocol === "http:" &&
      ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) &&
      process.env.NODE_ENV !== "production"
    );
  } catch {
    return false;
  }
}

export const ZAlertSettings = z.object({
  emailTo: z
    .string()
    .max(2_000)
    .transform((s) =>
      s
        .split(/[,;\s]+/)
        .map((e) => e.trim())
        .filter((e) => e.length > 0),
    )
    .pipe(z.array(z.email("Enter valid e-mail addresses, separated by commas")).max(20)),
  webhookUrl: z
    .string()
    .trim()
    .max(2_000)
    .transform((s) => (s === "" ? null : s))
    .refine((s) => s === null || webhookAllowed(s), "The webhook URL must be an https:// URL"),
  staleMinutes: z.coerce.number().int().min(1).max(1_440),
  conditions: z.array(z.enum(ALERT_CONDITIONS)).max(ALERT_CONDITIONS.length),
  digest: z.boolean(),
});
export type AlertSettingsInput = z.input<typeof ZAlertSettings>;

export type AlertSettingsView = {
  emailTo: string[];
  webhookUrl: string | null;
  staleMinutes: number;
  conditions: string[];
  digest: boolean;
};

export async function getAlertSettings(shopDomain: string): Promise<AlertSettingsView> {
  const shopId = await shopIdForDomain(shopDomain);
  const row = shopId ? await alerts.alertSettings(shopId) : null;
  return (
    row ?? {
      emailTo: [],
      webhookUrl: null,
      staleMinutes: 15,
      conditions: [...alerts.DEFAULT_CONDITIONS],
      digest: false,
    }
  );
}

export type SaveResult =
  { ok: true; settings: AlertSettingsView } | { ok: false; errors: Record<string, string> };

export async function saveAlertSettings(
  shopDomain: string,
  input: AlertSettingsInput,
): Promise<SaveResult> {
  const parsed = ZAlertSettings.safeParse(input);
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? "form");
      errors[key] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const shopId = await shopIdForDomain(shopDomain);
  if (!shopId) return { ok: false, errors: { form: "Unknown shop" } };
  await alerts.saveAlertSettings({ shopId, ...parsed.data });
  return { ok: true, settings: parsed.data };
}
