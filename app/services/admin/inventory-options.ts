/**
 * The Inventory list's closed vocabularies, shared by its service (validation) and its page
 * (select options). Not `*.server.ts`: the browser bundle needs them too.
 */

/** "Low stock": available to sell at or below this many units (oversold items included). */
export const LOW_STOCK_AT_MOST = 5;

export const INVENTORY_FILTERS = ["all", "mismatch", "pending", "low", "unlisted"] as const;
export const INVENTORY_SORTS = ["sku", "ats", "ats_desc"] as const;
export type InventorySort = (typeof INVENTORY_SORTS)[number];
