/**
 * The Settings page: the shop's sync switch and "Release holds before uninstalling" — every
 * unit StockGuard holds on the source store (`reserved`, `safety_stock`) goes back to
 * `available` and sync pauses (`releaseHolds`). Shopify revokes the app's token before
 * `app/uninstalled` arrives, so this must happen before the merchant uninstalls.
 */
import { z } from "zod";
import {
  ChannelAuthError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../../channels/errors";
import { ConnectionBusyError } from "../../lib/locks.server";
import { findSetupState } from "../../repositories/admin/onboarding.server";
import { sumSourceHolds } from "../../repositories/admin/settings.server";
import { releaseHolds, ReleaseError } from "../release-holds.server";
import { refusal, STALE_PAGE, type FormFailure } from "./forms.server";
import { performOverviewAction } from "./onboarding.server";
import { requireShop } from "./shop.server";

export type SettingsPage = {
  shopDomain: string;
  syncEnabled: boolean;
  linkedTo: string | null;
  holdsReleasedAt: string | null;
  /** What StockGuard holds on the source store, as last read from its levels. */
  holds: { reserved: number; safetyStock: number; levels: number; observedAt: string | null };
};

export async function getSettings(shopDomain: string): Promise<SettingsPage> {
  const shop = await requireShop(shopDomain);
  const [state, holds] = await Promise.all([
    findSetupState({ shopId: shop.id }),
    sumSourceHolds({ shopId: shop.id }),
  ]);
  return {
    shopDomain: shop.domain,
    syncEnabled: state?.syncEnabled ?? false,
    linkedTo: state?.linkedToDomain ?? null,
    holdsReleasedAt: state?.holdsReleasedAt?.toISOString() ?? null,
    holds: { ...holds, observedAt: holds.observedAt?.toISOString() ?? null },
  };
}

export const ZSettingsAction = z.discriminatedUnion(
  "intent",
  [
    z.object({ intent: z.literal("start-sync") }),
    z.object({ intent: z.literal("pause-sync") }),
    z.object({ intent: z.literal("release-holds") }),
  ],
  { error: STALE_PAGE },
);
export type SettingsAction = z.infer<typeof ZSettingsAction>;

export type SettingsResult = {
  ok: true;
  message: string;
  released?: { units: number; levels: number };
};

const BUSY_RETRIES = 20;

export async function performSettingsAction(input: {
  shopDomain: string;
  action: SettingsAction;
}): Promise<SettingsResult | FormFailure> {
  const { shopDomain, action } = input;
  if (action.intent !== "release-holds") return performOverviewAction({ shopDomain, action });
  const fail = (message: string): FormFailure => ({
    ok: false,
    intent: "release-holds",
    fieldErrors: {},
    formError: message,
    status: 422,
  });
  // A write to the store may hold its lock for a moment (sync pauses first, so none follows).
  for (let attempt = 0; ; attempt++) {
    try {
      const released = await releaseHolds(shopDomain);
      return {
        ok: true,
        message:
          released.units > 0
            ? `Released ${released.units} unit${released.units === 1 ? "" : "s"} on ${released.levels} inventory level${released.levels === 1 ? "" : "s"}; sync is paused`
            : "StockGuard held no units on this store; sync is paused",
        released: { units: released.units, levels: released.levels },
      };
    } catch (error) {
      if (error instanceof ConnectionBusyError && attempt < BUSY_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      if (error instanceof ConnectionBusyError)
        return fail("A write to this store is still running; nothing was released. Try again.");
      if (error instanceof ChannelAuthError)
        return fail(`Shopify refused StockGuard's access to this store: ${error.message}`);
      if (error instanceof ChannelRetryableError || error instanceof ChannelThrottledError)
        return fail(`Shopify did not answer (${error.message}); try again.`);
      return refusal(error, "release-holds", [ReleaseError]);
    }
  }
}
