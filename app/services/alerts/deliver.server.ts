/**
 * Sends alerts: e-mail through SMTP (nodemailer, `SMTP_URL`) and a Slack-compatible webhook
 * (`{ "text": … }` POSTed as JSON). Each alert is claimed before it is sent (a conditional
 * update), so one alert is delivered once per channel; a failed send is released for another
 * attempt (at most 5). In digest mode a shop's alerts are e-mailed together, at most hourly.
 */
import nodemailer, { type Transporter } from "nodemailer";
import { env } from "../../env.server";
import { log } from "../../logger.server";
import * as alerts from "../../repositories/alerts.server";

/** A shop in digest mode gets one e-mail once its oldest unsent alert is this old. */
export const DIGEST_AFTER_MS = 60 * 60_000;
const WEBHOOK_TIMEOUT_MS = 5_000;

let transport: { url: string; transporter: Transporter } | null = null;

function mailer(): Transporter | null {
  const url = env().SMTP_URL;
  if (!url) return null;
  if (transport?.url !== url) {
    transport = { url, transporter: nodemailer.createTransport(url) };
  }
  return transport.transporter;
}

function describe(alert: alerts.AlertRow): string {
  return `${alert.title} (since ${alert.openedAt.toISOString()})`;
}

export type DeliveryOutcome = { emails: number; webhooks: number; failures: number };

export async function deliverAlerts(now = new Date()): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { emails: 0, webhooks: 0, failures: 0 };
  const settingsCache = new Map<string, alerts.AlertSettingsRow | null>();
  const settingsOf = async (shopId: string) => {
    if (!settingsCache.has(shopId)) settingsCache.set(shopId, await alerts.alertSettings(shopId));
    return settingsCache.get(shopId) ?? null;
  };
  // E-mail: per shop, one message per alert, or one digest.
  const byShop = groupByShop(await alerts.undelivered("email"));
  for (const [shopId, list] of byShop) {
    const settings = await settingsOf(shopId);
    if (!settings || settings.emailTo.length === 0) continue;
    const transporter = mailer();
    if (!transporter) continue;
    const batches = settings.digest
      ? now.getTime() - Math.min(...list.map((a) => a.openedAt.getTime())) >= DIGEST_AFTER_MS
        ? [list]
        : []
      : list.map((a) => [a]);
    for (const batch of batches) {
      const claimed = await alerts.claimDelivery(
        "email",
        batch.map((a) => a.id),
      );
      const sending = batch.filter((a) => claimed.includes(a.id));
      if (sending.length === 0) continue;
      const subject =
        sending.length === 1
          ? `StockGuard alert: ${sending[0]!.title}`
          : `StockGuard digest: ${sending.length} alerts`;
      try {
        await transporter.sendMail({
          from: env().ALERT_FROM,
          to: settings.emailTo,
          subject,
          text: `${sending.map(describe).join("\n")}\n\nOpen StockGuard's Incidents page for details.`,
        });
        outcome.emails++;
      } catch (error) {
        outcome.failures++;
        await alerts.releaseDelivery("email", claimed, errorText(error));
        log({ shopId, err: errorText(error) }).warn("alert e-mail failed");
      }
    }
  }
  // Webhook: one POST per alert (chat channels read them as they come).
  for (const [shopId, list] of groupByShop(await alerts.undelivered("webhook"))) {
    const settings = await settingsOf(shopId);
    if (!settings?.webhookUrl) continue;
    for (const alert of list) {
      const claimed = await alerts.claimDelivery("webhook", [alert.id]);
      if (claimed.length === 0) continue;
      try {
        const response = await fetch(settings.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            text: `StockGuard alert: ${describe(alert)}`,
            condition: alert.condition,
            subject: alert.subject,
            details: alert.details,
          }),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
          redirect: "error",
        });
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
        outcome.webhooks++;
      } catch (error) {
        outcome.failures++;
        await alerts.releaseDelivery("webhook", claimed, errorText(error));
        log({ shopId, err: errorText(error) }).warn("alert webhook failed");
      }
    }
  }
  return outcome;
}

function groupByShop(list: alerts.AlertRow[]): Map<string, alerts.AlertRow[]> {
  const map = new Map<string, alerts.AlertRow[]>();
  for (const a of list) map.set(a.shopId, [...(map.get(a.shopId) ?? []), a]);
  return map;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
