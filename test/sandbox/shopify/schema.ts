/** The Admin GraphQL schema subset (API 2026-10 names) the local server executes. */
import { buildSchema, type GraphQLSchema } from "graphql";
import { FLOW_SDL } from "./flow";
import { VARIANTS_BULK_SDL } from "./variants-bulk";
import { topicEnumValues } from "./topics";

const CONNECTION_ARGS = "first: Int, after: String, last: Int, before: String";

export const ADMIN_SDL = /* GraphQL */ `
  """
  Makes a mutation idempotent; mandatory on the inventory mutations since 2026-04.
  """
  directive @idempotent(key: String!) on FIELD

  scalar DateTime
  scalar URL
  scalar Money

  interface Node {
    id: ID!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type Query {
    shop: Shop!
    currentAppInstallation: AppInstallation!
    locations(${CONNECTION_ARGS}, includeInactive: Boolean = false, includeLegacy: Boolean = false): LocationConnection!
    location(id: ID): Location
    products(${CONNECTION_ARGS}, query: String): ProductConnection!
    product(id: ID!): Product
    productVariants(${CONNECTION_ARGS}, query: String): ProductVariantConnection!
    productVariant(id: ID!): ProductVariant
    inventoryItems(${CONNECTION_ARGS}, query: String): InventoryItemConnection!
    inventoryItem(id: ID!): InventoryItem
    inventoryLevel(id: ID!): InventoryLevel
    node(id: ID!): Node
    nodes(ids: [ID!]!): [Node]!
    webhookSubscription(id: ID!): WebhookSubscription
    webhookSubscriptions(${CONNECTION_ARGS}, reverse: Boolean = false, sortKey: WebhookSubscriptionSortKeys = ID, query: String, format: WebhookSubscriptionFormat, uri: String, callbackUrl: URL, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
  }

  type Mutation {
    inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
    inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
    inventoryMoveQuantities(input: InventoryMoveQuantitiesInput!): InventoryMoveQuantitiesPayload
    webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
    webhookSubscriptionUpdate(id: ID!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionUpdatePayload
    webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  }

  enum WebhookSubscriptionTopic {
    ${topicEnumValues().join("\n    ")}
  }

  enum WebhookSubscriptionFormat {
    JSON
    XML
  }

  enum WebhookSubscriptionSortKeys {
    CREATED_AT
    ID
  }

  type ApiVersion {
    handle: String!
    displayName: String!
    supported: Boolean!
  }

  type WebhookHttpEndpoint {
    callbackUrl: URL!
  }
  type WebhookEventBridgeEndpoint {
    arn: String!
  }
  type WebhookPubSubEndpoint {
    pubSubProject: String!
    pubSubTopic: String!
  }
  union WebhookSubscriptionEndpoint = WebhookHttpEndpoint | WebhookEventBridgeEndpoint | WebhookPubSubEndpoint

  type WebhookSubscription implements Node {
    id: ID!
    legacyResourceId: ID!
    topic: WebhookSubscriptionTopic!
    uri: String!
    format: WebhookSubscriptionFormat!
    filter: String
    includeFields: [String!]!
    metafieldNamespaces: [String!]!
    name: String
    apiVersion: ApiVersion!
    createdAt: DateTime!
    updatedAt: DateTime!
    callbackUrl: URL! @deprecated(reason: "Use \`uri\` instead.")
    endpoint: WebhookSubscriptionEndpoint! @deprecated(reason: "Use \`uri\` instead.")
  }
  type WebhookSubscriptionConnection {
    nodes: [WebhookSubscription!]!
    edges: [WebhookSubscriptionEdge!]!
    pageInfo: PageInfo!
  }
  type WebhookSubscriptionEdge {
    cursor: String!
    node: WebhookSubscription!
  }

  """
  \`callbackUrl\` is the deprecated spelling of \`uri\` (still sent by @shopify/shopify-api's registerWebhooks).
  """
  input WebhookSubscriptionInput {
    uri: String
    callbackUrl: URL
    format: WebhookSubscriptionFormat
    filter: String
    includeFields: [String!]
    metafieldNamespaces: [String!]
    name: String
  }

  type UserError {
    field: [String!]
    message: String!
  }
  type WebhookSubscriptionCreatePayload {
    webhookSubscription: WebhookSubscription
    userErrors: [UserError!]!
  }
  type WebhookSubscriptionUpdatePayload {
    webhookSubscription: WebhookSubscription
    userErrors: [UserError!]!
  }
  type WebhookSubscriptionDeletePayload {
    deletedWebhookSubscriptionId: ID
    userErrors: [UserError!]!
  }

  type Shop implements Node {
    id: ID!
    name: String!
    myshopifyDomain: String!
    email: String!
    currencyCode: String!
  }

  type AccessScope {
    handle: String!
    description: String!
  }

  type AppInstallation implements Node {
    id: ID!
    accessScopes: [AccessScope!]!
  }

  type Location implements Node {
    id: ID!
    name: String!
    isActive: Boolean!
    fulfillsOnlineOrders: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    inventoryLevel(inventoryItemId: ID!): InventoryLevel
    inventoryLevels(${CONNECTION_ARGS}): InventoryLevelConnection!
  }

  enum ProductStatus {
    ACTIVE
    ARCHIVED
    DRAFT
  }

  type Product implements Node {
    id: ID!
    title: String!
    handle: String!
    status: ProductStatus!
    vendor: String!
    productType: String!
    createdAt: DateTime!
    updatedAt: DateTime!
    totalInventory: Int!
    tracksInventory: Boolean!
    variants(${CONNECTION_ARGS}): ProductVariantConnection!
  }

  enum ProductVariantInventoryPolicy {
    DENY
    CONTINUE
  }

  type ProductVariant implements Node {
    id: ID!
    legacyResourceId: ID!
    sku: String
    title: String!
    displayName: String!
    price: Money!
    position: Int!
    inventoryPolicy: ProductVariantInventoryPolicy!
    inventoryQuantity: Int
    product: Product!
    inventoryItem: InventoryItem!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type InventoryItem implements Node {
    id: ID!
    legacyResourceId: ID!
    sku: String
    tracked: Boolean!
    requiresShipping: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    variant: ProductVariant!
    inventoryLevel(locationId: ID!): InventoryLevel
    inventoryLevels(${CONNECTION_ARGS}): InventoryLevelConnection!
  }

  type InventoryLevel implements Node {
    id: ID!
    location: Location!
    item: InventoryItem!
    quantities(names: [String!]!): [InventoryQuantity!]!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type InventoryQuantity implements Node {
    id: ID!
    name: String!
    quantity: Int!
    updatedAt: DateTime
  }

  type InventoryAdjustmentGroup implements Node {
    id: ID!
    createdAt: DateTime!
    reason: String!
    referenceDocumentUri: String
    changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
  }

  type InventoryChange {
    name: String!
    delta: Int!
    quantityAfterChange: Int
    item: InventoryItem
    location: Location
    ledgerDocumentUri: URL
  }

  type LocationConnection {
    nodes: [Location!]!
    edges: [LocationEdge!]!
    pageInfo: PageInfo!
  }
  type LocationEdge {
    cursor: String!
    node: Location!
  }
  type ProductConnection {
    nodes: [Product!]!
    edges: [ProductEdge!]!
    pageInfo: PageInfo!
  }
  type ProductEdge {
    cursor: String!
    node: Product!
  }
  type ProductVariantConnection {
    nodes: [ProductVariant!]!
    edges: [ProductVariantEdge!]!
    pageInfo: PageInfo!
  }
  type ProductVariantEdge {
    cursor: String!
    node: ProductVariant!
  }
  type InventoryItemConnection {
    nodes: [InventoryItem!]!
    edges: [InventoryItemEdge!]!
    pageInfo: PageInfo!
  }
  type InventoryItemEdge {
    cursor: String!
    node: InventoryItem!
  }
  type InventoryLevelConnection {
    nodes: [InventoryLevel!]!
    edges: [InventoryLevelEdge!]!
    pageInfo: PageInfo!
  }
  type InventoryLevelEdge {
    cursor: String!
    node: InventoryLevel!
  }

  input InventoryQuantityInput {
    inventoryItemId: ID!
    locationId: ID!
    quantity: Int!
    changeFromQuantity: Int
  }
  input InventorySetQuantitiesInput {
    name: String!
    reason: String!
    referenceDocumentUri: String
    quantities: [InventoryQuantityInput!]!
  }

  input InventoryChangeInput {
    inventoryItemId: ID!
    locationId: ID!
    delta: Int!
    ledgerDocumentUri: String
    changeFromQuantity: Int
  }
  input InventoryAdjustQuantitiesInput {
    name: String!
    reason: String!
    referenceDocumentUri: String
    changes: [InventoryChangeInput!]!
  }

  input InventoryMoveQuantityTerminalInput {
    locationId: ID!
    name: String!
    ledgerDocumentUri: String
    changeFromQuantity: Int
  }
  input InventoryMoveQuantityChange {
    inventoryItemId: ID!
    quantity: Int!
    from: InventoryMoveQuantityTerminalInput!
    to: InventoryMoveQuantityTerminalInput!
  }
  input InventoryMoveQuantitiesInput {
    reason: String!
    referenceDocumentUri: String
    changes: [InventoryMoveQuantityChange!]!
  }

  enum InventorySetQuantitiesUserErrorCode {
    CHANGE_FROM_QUANTITY_STALE
    IDEMPOTENCY_CONCURRENT_REQUEST
    IDEMPOTENCY_KEY_PARAMETER_MISMATCH
    INVALID_INVENTORY_ITEM
    INVALID_LOCATION
    INVALID_NAME
    INVALID_QUANTITY_NEGATIVE
    INVALID_QUANTITY_TOO_HIGH
    INVALID_QUANTITY_TOO_LOW
    INVALID_REASON
    INVALID_REFERENCE_DOCUMENT
    ITEM_NOT_STOCKED_AT_LOCATION
    NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
    NON_MUTABLE_INVENTORY_ITEM
  }
  type InventorySetQuantitiesUserError {
    code: InventorySetQuantitiesUserErrorCode
    field: [String!]
    message: String!
  }
  type InventorySetQuantitiesPayload {
    inventoryAdjustmentGroup: InventoryAdjustmentGroup
    userErrors: [InventorySetQuantitiesUserError!]!
  }

  enum InventoryAdjustQuantitiesUserErrorCode {
    ADJUST_QUANTITIES_FAILED
    CHANGE_FROM_QUANTITY_STALE
    IDEMPOTENCY_CONCURRENT_REQUEST
    IDEMPOTENCY_KEY_PARAMETER_MISMATCH
    INTERNAL_LEDGER_DOCUMENT
    INVALID_AVAILABLE_DOCUMENT
    INVALID_INVENTORY_ITEM
    INVALID_LEDGER_DOCUMENT
    INVALID_LOCATION
    INVALID_QUANTITY_DOCUMENT
    INVALID_QUANTITY_NAME
    INVALID_QUANTITY_NEGATIVE
    INVALID_QUANTITY_TOO_HIGH
    INVALID_QUANTITY_TOO_LOW
    INVALID_REASON
    INVALID_REFERENCE_DOCUMENT
    ITEM_NOT_STOCKED_AT_LOCATION
    MAX_ONE_LEDGER_DOCUMENT
    NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
    NON_MUTABLE_INVENTORY_ITEM
  }
  type InventoryAdjustQuantitiesUserError {
    code: InventoryAdjustQuantitiesUserErrorCode
    field: [String!]
    message: String!
  }
  type InventoryAdjustQuantitiesPayload {
    inventoryAdjustmentGroup: InventoryAdjustmentGroup
    userErrors: [InventoryAdjustQuantitiesUserError!]!
  }

  enum InventoryMoveQuantitiesUserErrorCode {
    CHANGE_FROM_QUANTITY_STALE
    DIFFERENT_LOCATIONS
    IDEMPOTENCY_CONCURRENT_REQUEST
    IDEMPOTENCY_KEY_PARAMETER_MISMATCH
    INTERNAL_LEDGER_DOCUMENT
    INVALID_AVAILABLE_DOCUMENT
    INVALID_INVENTORY_ITEM
    INVALID_LEDGER_DOCUMENT
    INVALID_LOCATION
    INVALID_QUANTITY_DOCUMENT
    INVALID_QUANTITY_NAME
    INVALID_QUANTITY_NEGATIVE
    INVALID_QUANTITY_TOO_HIGH
    INVALID_REASON
    INVALID_REFERENCE_DOCUMENT
    ITEM_NOT_STOCKED_AT_LOCATION
    MAXIMUM_LEDGER_DOCUMENT_URIS
    MOVE_QUANTITIES_FAILED
    NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
    NON_MUTABLE_INVENTORY_ITEM
    SAME_QUANTITY_NAME
  }
  type InventoryMoveQuantitiesUserError {
    code: InventoryMoveQuantitiesUserErrorCode
    field: [String!]
    message: String!
  }
  type InventoryMoveQuantitiesPayload {
    inventoryAdjustmentGroup: InventoryAdjustmentGroup
    userErrors: [InventoryMoveQuantitiesUserError!]!
  }
  ${FLOW_SDL}
  ${VARIANTS_BULK_SDL}
`;

let cached: GraphQLSchema | null = null;

export function adminSchema(): GraphQLSchema {
  cached ??= buildSchema(ADMIN_SDL);
  return cached;
}
