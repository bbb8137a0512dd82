/**
 * The Overview's onboarding checklist, from install to a syncing shop: the catalog import (live
 * progress, failure reason, retry), the source locations whose stock is pooled, the sales
 * channels, the shop-wide default buffer, the preview of the first sync (what every listing would
 * show against what its channel shows now, before any write) and the sync switch. Reads through
 * `repositories/admin/onboarding.server.ts`; the switches are the sync-control use cases.
 */
import { z } from "zod";
import {
  countPreviewChanges,
  findSetupState,
  listDefaultRules,
  listPreviewDifferences,
  listSourceLocations,
  type PreviewChannelRow,
  type SourceLocationRow,
} from "../../repositories/admin/onboarding.server";
import { latestImports, requestImport } from "../catalog/import-runs.server";
import { shopConnections } from "../../repositories/connections.server";
import { pauseSync, startSync, SyncControlError } from "../sync-control.server";
import { refusal, STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

/** Rows of the preview's difference table (the counts per channel are always complete). */
export const PREVIEW_ROWS = 50;

export type ImportStatus = "queued" | "running" | "done" | "failed";

export type ImportView = {
  connectionId: string;
  connectionName: string;
  role: "source" | "sales";
  status: ImportStatus;
  reason: string | null;
  imported: number;
  total: number | null;
  issues: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
};

export type PreviewDifference = {
  listingId: string;
  connectionId: string;
  connectionName: string;
  sku: string | null;
  title: string | null;
  shows: number | null;
  publishes: number;
  bundle: boolean;
};

export type Onboarding = {
  /** The source shop's domain when this store is linked as its sales channel (no hub of its own). */
  linkedTo: string | null;
  syncEnabled: boolean;
  holdsReleasedAt: string | null;
  /** The source store's latest import ("queued" before the worker picked it up). */
  sourceImport: ImportView | null;
  /** Latest import of every other connection. */
  channelImports: ImportView[];
  locations: SourceLocationRow[];
  salesChannels: number;
  defaultRules: { kind: string; value: number }[];
  preview: {
    channels: PreviewChannelRow[];
    differences: PreviewDifference[];
    /** Differences beyond the table. */
    more: number;
  };
  /** Why sync cannot start yet (null: it can). */
  startBlocker: string | null;
};

export async function getOnboarding(shopDomain: string): Promise<Onboarding> {
  const shop = await requireShop(shopDomain);
  const [state, runs, connections, locations, defaultRules, previewChannels, differences] =
    await Promise.all([
      findSetupState({ shopId: shop.id }),
      latestImports(shop.id),
      shopConnections(shop.id),
      listSourceLocations({ shopId: shop.id }),
      listDefaultRules({ shopId: shop.id }),
      countPreviewChanges({ shopId: shop.id }),
      listPreviewDifferences({ shopId: shop.id, limit: PREVIEW_ROWS }),
    ]);
  const runOf = new Map(runs.map((r) => [r.connectionId, r]));
  const view = (c: (typeof connections)[number]): ImportView | null => {
    const run = runOf.get(c.id);
    if (!run) return null;
    return {
      connectionId: c.id,
      connectionName: c.name,
      role: c.role,
      status: run.status,
      reason: run.reason,
      imported: run.imported,
      total: run.total,
      issues: run.issues,
      error: run.error,
      startedAt: run.startedAt.toISOString(),
      finishedAt: run.finishedAt?.toISOString() ?? null,
    };
  };
  const source = connections.find((c) => c.role === "source");
  let sourceImport: ImportView | null = source ? view(source) : null;
  if (source && !sourceImport && locations.length === 0) {
    // Installed, the import not started yet: the worker picks it up within seconds.
    sourceImport = {
      connectionId: source.id,
      connectionName: source.name,
      role: "source",
      status: "queued",
      reason: "install",
      imported: 0,
      total: null,
      issues: 0,
      error: null,
      startedAt: null,
      finishedAt: null,
    };
  }
  const changes = previewChannels.reduce((sum, c) => sum + c.changes, 0);
  return {
    linkedTo: state?.linkedToDomain ?? null,
    syncEnabled: state?.syncEnabled ?? false,
    holdsReleasedAt: state?.holdsReleasedAt?.toISOString() ?? null,
    sourceImport,
    channelImports: connections
      .filter((c) => c.role === "sales" && c.status !== "disconnected")
      .flatMap((c) => view(c) ?? []),
    locations,
    salesChannels: connections.filter((c) => c.role === "sales" && c.status !== "disconnected")
      .length,
    defaultRules,
    preview: {
      channels: previewChannels,
      differences: differences.map((d) => ({
        listingId: d.listingId,
        connectionId: d.connectionId,
        connectionName: d.connectionName,
        sku: d.sku,
        title: d.title,
        shows: d.shows,
        publishes: d.publishes,
        bundle: d.components > 1,
      })),
      more: Math.max(0, changes - differences.length),
    },
    startBlocker: startBlocker(state?.linkedToDomain ?? null, sourceImport, locations.length),
  };
}

function startBlocker(
  linkedTo: string | null,
  sourceImport: ImportView | null,
  locations: number,
): string | null {
  if (linkedTo) return `This store sells ${linkedTo}'s stock: sync is managed in that store.`;
  if (sourceImport?.status === "queued" || sourceImport?.status === "running")
    return "Wait for the catalog import to finish.";
  if (sourceImport?.status === "failed")
    return "The catalog import failed: retry it before starting sync.";
  if (locations === 0) return "No source location yet: import the catalog first.";
  return null;
}

export const ZOverviewAction = z.discriminatedUnion(
  "intent",
  [
    z.object({ intent: z.literal("start-sync") }),
    z.object({ intent: z.literal("pause-sync") }),
    z.object({ intent: z.literal("retry-import"), connectionId: z.uuid(STALE_PAGE) }),
  ],
  { error: STALE_PAGE },
);
export type OverviewAction = z.infer<typeof ZOverviewAction>;

export type OverviewActionResult = { ok: true; message: string };

/** Start or pause the shop's sync, or retry a failed import. */
export async function performOverviewAction(input: {
  shopDomain: string;
  action: OverviewAction;
}): Promise<OverviewActionResult | FormFailure> {
  const { action, shopDomain } = input;
  const intent = action.intent;
  try {
    switch (action.intent) {
      case "start-sync": {
        const blocker = (await getOnboarding(shopDomain)).startBlocker;
        if (blocker) return { ok: false, intent, fieldErrors: {}, formError: blocker, status: 422 };
        const { connections } = await startSync(shopDomain);
        return {
          ok: true,
          message:
            connections > 0
              ? `Sync started: writing to ${connections} channel${connections === 1 ? "" : "s"}`
              : "Sync started",
        };
      }
      case "pause-sync":
        await pauseSync(shopDomain);
        return { ok: true, message: "Sync paused" };
      case "retry-import": {
        const shop = await requireShop(shopDomain);
        const connection = (await shopConnections(shop.id)).find(
          (c) => c.id === action.connectionId,
        );
        if (!connection || connection.status === "disconnected") {
          return {
            ok: false,
            intent,
            fieldErrors: {},
            formError: "That channel is not connected any more; reload the page",
            status: 404,
          };
        }
        const run = (await latestImports(shop.id)).find((r) => r.connectionId === connection.id);
        if (run?.status === "running") return { ok: true, message: "The import is running" };
        await requestImport(connection.id, "retry");
        return { ok: true, message: `Import of ${connection.name} queued` };
      }
    }
  } catch (error) {
    return refusal(error, intent, [SyncControlError]);
  }
}
