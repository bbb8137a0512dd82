/** Field resolvers of the Admin GraphQL subset, over one shop's records. */
import {
  GraphQLError,
  defaultFieldResolver,
  getDirectiveValues,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLTypeResolver,
} from "graphql";
import type { Caller } from "./apps";
import { gid, inventoryLevelGid, parseGid } from "./ids";
import {
  QUANTITY_NAMES,
  graphqlTime,
  isQuantityName,
  quantityOf,
  type AdjustmentGroupRec,
  type ChangeRec,
  type ItemRec,
  type LevelRec,
  type LocationRec,
  type ProductRec,
  type StateName,
  type VariantRec,
} from "./model";
import { flowMutationResolvers } from "./flow";
import { variantsBulkMutationResolvers } from "./variants-bulk";
import { isInventoryMutation, runInventoryMutation } from "./inventory-mutations";
import type { Sandbox } from "./sandbox";
import type { ShopState } from "./state";
import { adminSchema } from "./schema";
import {
  createSubscription,
  deleteSubscription,
  findSubscription,
  listSubscriptions,
  updateSubscription,
  webhookSubscriptionFields,
} from "./webhook-subscriptions";

/** `caller`: the app behind the request's access token (its scopes, its subscriptions). */
export type AdminContext = { sandbox: Sandbox; shop: ShopState; caller: Caller; replays: number };

type Args = Record<string, unknown>;
type Resolver = (source: never, args: Args, ctx: AdminContext, info: GraphQLResolveInfo) => unknown;

export const MAX_PAGE_SIZE = 250;

// --- pagination ------------------------------------------------------------------------------

type Page<T> = {
  nodes: T[];
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
};

function encodeCursor(key: number): string {
  return Buffer.from(JSON.stringify({ last_id: key, last_value: String(key) })).toString(
    "base64url",
  );
}

function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    const id = (parsed as { last_id?: unknown }).last_id;
    if (typeof id === "number" && Number.isSafeInteger(id)) return id;
  } catch {
    // fall through
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, {
    extensions: { code: "BAD_REQUEST" },
  });
}

/** Cursor pagination over `all` (sorted ascending by `keyOf`). */
export function paginate<T>(all: readonly T[], keyOf: (item: T) => number, args: Args): Page<T> {
  const first = typeof args.first === "number" ? args.first : null;
  const last = typeof args.last === "number" ? args.last : null;
  if (first === null && last === null) {
    throw new GraphQLError("you must provide one of first or last", {
      extensions: { code: "BAD_REQUEST" },
    });
  }
  for (const [name, value] of [
    ["first", first],
    ["last", last],
  ] as const) {
    if (value === null) continue;
    if (value < 0) {
      throw new GraphQLError(`${name} must be a non-negative integer`, {
        extensions: { code: "BAD_REQUEST" },
      });
    }
    if (value > MAX_PAGE_SIZE) {
      throw new GraphQLError(
        `The maximum number of records that can be requested (${name}) is ${MAX_PAGE_SIZE}.`,
        { extensions: { code: "BAD_REQUEST", argumentName: name, maximum: MAX_PAGE_SIZE } },
      );
    }
  }
  const sorted = [...all].sort((a, b) => keyOf(a) - keyOf(b));
  const after = typeof args.after === "string" ? decodeCursor(args.after) : null;
  const before = typeof args.before === "string" ? decodeCursor(args.before) : null;
  const window = sorted.filter(
    (item) => (after === null || keyOf(item) > after) && (before === null || keyOf(item) < before),
  );
  let slice = window;
  let hasNextPage = before !== null && sorted.some((item) => keyOf(item) >= before);
  let hasPreviousPage = after !== null && sorted.some((item) => keyOf(item) <= after);
  if (first !== null) {
    hasNextPage = slice.length > first;
    slice = slice.slice(0, first);
  }
  if (last !== null) {
    hasPreviousPage = slice.length > last;
    slice = slice.slice(Math.max(0, slice.length - last));
  }
  const edges = slice.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    nodes: slice,
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

// --- search syntax ---------------------------------------------------------------------------

type Term = { field: string | null; value: string };

/** `sku:ABC title:"Blue shirt" product_id:123 free text`; terms are ANDed. */
function parseSearch(query: unknown): Term[] {
  if (typeof query !== "string" || query.trim() === "") return [];
  const terms: Term[] = [];
  const pattern = /(?:(\w+):)?(?:"([^"]*)"|(\S+))/g;
  for (const match of query.matchAll(pattern)) {
    const value = match[2] ?? match[3] ?? "";
    if (!match[1] && /^(AND|OR)$/.test(value)) continue;
    terms.push({ field: match[1]?.toLowerCase() ?? null, value });
  }
  return terms;
}

function matchesAll(terms: Term[], fields: Record<string, string | number | null>, text: string) {
  return terms.every(({ field, value }) => {
    if (field === null) return text.toLowerCase().includes(value.toLowerCase());
    if (!(field in fields)) return true;
    const actual = fields[field];
    if (actual === null || actual === undefined) return false;
    if (typeof actual === "number") {
      const id = parseGid(value)?.id ?? Number(value);
      return actual === id;
    }
    return value.endsWith("*")
      ? actual.toLowerCase().startsWith(value.slice(0, -1).toLowerCase())
      : actual.toLowerCase() === value.toLowerCase();
  });
}

// --- lookups ---------------------------------------------------------------------------------

function invalidGid(value: unknown): GraphQLError {
  return new GraphQLError(`Invalid global id '${String(value)}'`, {
    extensions: { code: "argumentLiteralsIncompatible", typeName: "CoercionError" },
  });
}

/** Any supported node by GID; null when well-formed but unknown. */
function nodeById(shop: ShopState, id: unknown): unknown {
  const parsed = typeof id === "string" ? parseGid(id) : null;
  if (!parsed) throw invalidGid(id);
  switch (parsed.kind) {
    case "Location":
      return shop.locations.get(parsed.id) ?? null;
    case "Product":
      return shop.products.get(parsed.id) ?? null;
    case "ProductVariant":
      return shop.variants.get(parsed.id) ?? null;
    case "InventoryItem":
      return shop.items.get(parsed.id) ?? null;
    case "InventoryLevel": {
      const itemId = Number(parsed.params.get("inventory_item_id"));
      return shop.level(itemId, parsed.id) ?? null;
    }
    case "InventoryAdjustmentGroup":
      return shop.adjustmentGroups.get(parsed.id) ?? null;
    case "Shop":
      return parsed.id === shop.id ? shopNode(shop) : null;
    default:
      return null;
  }
}

function byKind<T>(shop: ShopState, id: unknown, kind: string): T | null {
  const node = nodeById(shop, id) as { kind?: string } | null;
  return node && node.kind === kind ? (node as T) : null;
}

function shopNode(shop: ShopState) {
  return {
    kind: "Shop",
    gid: gid("Shop", shop.id),
    name: shop.name,
    myshopifyDomain: shop.domain,
    email: shop.email,
    currencyCode: shop.currency,
  };
}

function variantsOf(shop: ShopState, product: ProductRec): VariantRec[] {
  return product.variantIds.flatMap((id) => {
    const v = shop.variants.get(id);
    return v ? [v] : [];
  });
}

function variantText(shop: ShopState, v: VariantRec): string {
  const product = shop.products.get(v.productId);
  return `${product?.title ?? ""} ${v.title} ${v.sku ?? ""}`;
}

// --- resolvers -------------------------------------------------------------------------------

const resolvers: Record<string, Record<string, Resolver>> = {
  Query: {
    shop: (_s, _a, { shop }) => shopNode(shop),
    currentAppInstallation: (_s, _a, { caller }) => ({
      kind: "AppInstallation",
      gid: gid("AppInstallation", caller.installationId),
      accessScopes: caller.scopes.map((handle) => ({ handle, description: handle })),
    }),
    locations: (_s, args, { shop }) =>
      paginate(
        shop.orderedLocations().filter((l) => l.isActive || args.includeInactive === true),
        (l) => l.id,
        args,
      ),
    location: (_s, args, { shop }) =>
      args.id === undefined || args.id === null
        ? (shop.orderedLocations()[0] ?? null)
        : byKind<LocationRec>(shop, args.id, "Location"),
    products: (_s, args, { shop }) => {
      const terms = parseSearch(args.query);
      const all = [...shop.products.values()].filter((p) =>
        matchesAll(
          terms,
          { id: p.id, title: p.title, status: p.status, handle: p.handle },
          `${p.title} ${p.handle}`,
        ),
      );
      return paginate(all, (p) => p.id, args);
    },
    product: (_s, args, { shop }) => byKind<ProductRec>(shop, args.id, "Product"),
    productVariants: (_s, args, { shop }) => {
      const terms = parseSearch(args.query);
      const all = [...shop.variants.values()].filter((v) =>
        matchesAll(
          terms,
          {
            id: v.id,
            sku: v.sku,
            product_id: v.productId,
            inventory_item_id: v.inventoryItemId,
            title: v.title,
          },
          variantText(shop, v),
        ),
      );
      return paginate(all, (v) => v.id, args);
    },
    productVariant: (_s, args, { shop }) => byKind<VariantRec>(shop, args.id, "ProductVariant"),
    inventoryItems: (_s, args, { shop }) => {
      const terms = parseSearch(args.query);
      const all = [...shop.items.values()].filter((item) => {
        const sku = shop.variants.get(item.variantId)?.sku ?? null;
        return matchesAll(terms, { id: item.id, sku }, sku ?? "");
      });
      return paginate(all, (i) => i.id, args);
    },
    inventoryItem: (_s, args, { shop }) => byKind<ItemRec>(shop, args.id, "InventoryItem"),
    inventoryLevel: (_s, args, { shop }) => byKind<LevelRec>(shop, args.id, "InventoryLevel"),
    node: (_s, args, { shop }) => nodeById(shop, args.id),
    nodes: (_s, args, { shop }) => (args.ids as unknown[]).map((id) => nodeById(shop, id)),
    webhookSubscription: (_s, args, { shop, caller }) => {
      if (typeof args.id !== "string" || !parseGid(args.id)) throw invalidGid(args.id);
      return findSubscription(shop, caller.owner.key, args.id);
    },
    webhookSubscriptions: (_s, args, { shop, caller }) => {
      // Ids grow with creation time, so both sort keys give the same order.
      const sign = args.reverse === true ? -1 : 1;
      return paginate(
        listSubscriptions(shop, caller.owner.key, args),
        (sub) => sign * sub.legacyId,
        args,
      );
    },
  },

  WebhookSubscription: webhookSubscriptionFields,

  Location: {
    inventoryLevel: (source: LocationRec, args, { shop }) => {
      const item = byKind<ItemRec>(shop, args.inventoryItemId, "InventoryItem");
      return item?.levels.get(source.id) ?? null;
    },
    inventoryLevels: (source: LocationRec, args, { shop }) =>
      paginate(
        [...shop.items.values()].flatMap((item) => {
          const level = item.levels.get(source.id);
          return level ? [level] : [];
        }),
        (level) => level.itemId,
        args,
      ),
  },

  Product: {
    variants: (source: ProductRec, args, { shop }) =>
      paginate(variantsOf(shop, source), (v) => v.id, args),
    totalInventory: (source: ProductRec, _a, { shop }) =>
      variantsOf(shop, source).reduce(
        (sum, v) => sum + shop.totalAvailable(shop.itemOfVariant(v)),
        0,
      ),
    tracksInventory: (source: ProductRec, _a, { shop }) =>
      variantsOf(shop, source).some((v) => shop.itemOfVariant(v).tracked),
  },

  ProductVariant: {
    legacyResourceId: (source: VariantRec) => String(source.id),
    displayName: (source: VariantRec, _a, { shop }) =>
      `${shop.productOfVariant(source).title} - ${source.title}`,
    inventoryQuantity: (source: VariantRec, _a, { shop }) =>
      shop.totalAvailable(shop.itemOfVariant(source)),
    product: (source: VariantRec, _a, { shop }) => shop.productOfVariant(source),
    inventoryItem: (source: VariantRec, _a, { shop }) => shop.itemOfVariant(source),
  },

  InventoryItem: {
    legacyResourceId: (source: ItemRec) => String(source.id),
    sku: (source: ItemRec, _a, { shop }) => shop.variants.get(source.variantId)?.sku ?? null,
    variant: (source: ItemRec, _a, { shop }) => shop.variantOfItem(source),
    inventoryLevel: (source: ItemRec, args, { shop }) => {
      const location = byKind<LocationRec>(shop, args.locationId, "Location");
      return location ? (source.levels.get(location.id) ?? null) : null;
    },
    inventoryLevels: (source: ItemRec, args) =>
      paginate([...source.levels.values()], (level) => level.locationId, args),
  },

  InventoryLevel: {
    id: (source: LevelRec) => inventoryLevelGid(source.locationId, source.itemId),
    location: (source: LevelRec, _a, { shop }) => shop.locations.get(source.locationId),
    item: (source: LevelRec, _a, { shop }) => shop.items.get(source.itemId),
    quantities: (source: LevelRec, args) => {
      const names = args.names as string[];
      const invalid = names.filter((n) => !isQuantityName(n));
      if (invalid.length > 0) {
        throw new GraphQLError(
          `Invalid quantity name(s): ${invalid.map((n) => `'${n}'`).join(", ")}. ` +
            `Valid names: ${QUANTITY_NAMES.join(", ")}.`,
          { extensions: { code: "BAD_REQUEST" } },
        );
      }
      return names.map((name) => {
        const stamp =
          name === "on_hand" ? source.updatedAt : source.quantityUpdatedAt[name as StateName];
        return {
          kind: "InventoryQuantity",
          gid: `gid://shopify/InventoryQuantity/${source.locationId}?inventory_item_id=${source.itemId}&name=${name}`,
          name,
          quantity: isQuantityName(name) ? quantityOf(source, name) : 0,
          updatedAt: stamp,
        };
      });
    },
  },

  InventoryAdjustmentGroup: {
    changes: (source: AdjustmentGroupRec, args) => {
      const ids = (value: unknown, kind: string): Set<number> | null =>
        Array.isArray(value)
          ? new Set(
              value.flatMap((v) => {
                const parsed = typeof v === "string" ? parseGid(v) : null;
                return parsed && parsed.kind === kind ? [parsed.id] : [];
              }),
            )
          : null;
      const items = ids(args.inventoryItemIds, "InventoryItem");
      const locations = ids(args.locationIds, "Location");
      const names = Array.isArray(args.quantityNames) ? (args.quantityNames as string[]) : null;
      return source.changes.filter(
        (c) =>
          (!items || items.has(c.itemId)) &&
          (!locations || locations.has(c.locationId)) &&
          (!names || names.includes(c.name)),
      );
    },
  },

  InventoryChange: {
    item: (source: ChangeRec, _a, { shop }) => shop.items.get(source.itemId) ?? null,
    location: (source: ChangeRec, _a, { shop }) => shop.locations.get(source.locationId) ?? null,
  },

  Mutation: {
    ...Object.fromEntries(
      ["inventorySetQuantities", "inventoryAdjustQuantities", "inventoryMoveQuantities"].map(
        (name) => [name, mutationResolver],
      ),
    ),
    webhookSubscriptionCreate: (_s, args, { sandbox, shop, caller }) =>
      createSubscription(
        shop,
        sandbox.ids,
        caller,
        args.topic as string,
        args.webhookSubscription as Record<string, unknown>,
      ),
    webhookSubscriptionUpdate: (_s, args, { shop, caller }) =>
      updateSubscription(
        shop,
        caller,
        args.id,
        args.webhookSubscription as Record<string, unknown>,
      ),
    webhookSubscriptionDelete: (_s, args, { shop, caller }) =>
      deleteSubscription(shop, caller.owner.key, args.id),
    ...flowMutationResolvers,
    ...variantsBulkMutationResolvers,
  },
};

/** The stored payload for a replayed key, a mismatch error, or the result of a fresh call. */
function mutationResolver(
  _source: never,
  args: Args,
  ctx: AdminContext,
  info: GraphQLResolveInfo,
): unknown {
  const mutation = info.fieldName;
  if (!isInventoryMutation(mutation)) return null;
  const key = idempotencyKeyOf(info);
  if (key === null) {
    throw new GraphQLError("The @idempotent directive is required for this mutation.", {
      extensions: { code: "BAD_REQUEST" },
    });
  }
  const { sandbox, shop } = ctx;
  sandbox.expireIdempotencyKeys(shop);
  const input = args.input as Record<string, unknown>;
  const fingerprint = stableStringify({ mutation, input });
  const existing = shop.idempotency.get(key);
  if (existing) {
    if (existing.fingerprint === fingerprint) {
      ctx.replays += 1;
      return existing.payload;
    }
    return {
      inventoryAdjustmentGroup: null,
      userErrors: [
        {
          code: "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
          field: null,
          message: "The idempotency key was already used with different parameters.",
        },
      ],
    };
  }
  const payload = runInventoryMutation(sandbox, shop, mutation, input, key);
  shop.idempotency.set(key, {
    fingerprint,
    payload,
    expiresAt: sandbox.idempotencyExpiry(),
  });
  return payload;
}

export function idempotencyKeyOf(info: GraphQLResolveInfo): string | null {
  const directive = info.schema.getDirective("idempotent");
  const node = info.fieldNodes[0];
  if (!directive || !node) return null;
  const values = getDirectiveValues(directive, node, info.variableValues);
  return typeof values?.key === "string" ? values.key : null;
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** Resolver table first; then `id` from the record kind, then properties; Dates → DateTime. */
export const fieldResolver: GraphQLFieldResolver<unknown, AdminContext> = (
  source,
  args,
  ctx,
  info,
) => {
  const own = resolvers[info.parentType.name]?.[info.fieldName];
  let value: unknown;
  if (own) {
    value = own(source as never, args, ctx, info);
  } else if (info.fieldName === "id" && typeof source === "object" && source !== null) {
    const record = source as { kind?: string; id?: unknown; gid?: unknown };
    if (typeof record.gid === "string") value = record.gid;
    else if (typeof record.kind === "string" && typeof record.id === "number") {
      value = gid(record.kind as Parameters<typeof gid>[0], record.id);
    } else value = defaultFieldResolver(source, args, ctx, info);
  } else {
    value = defaultFieldResolver(source, args, ctx, info);
  }
  return value instanceof Date ? graphqlTime(value) : value;
};

export const typeResolver: GraphQLTypeResolver<unknown, AdminContext> = (value) => {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return typeof kind === "string" && adminSchema().getType(kind) ? kind : undefined;
};
