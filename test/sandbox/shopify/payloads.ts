/** REST JSON bodies of webhook payloads (snake_case, numeric ids plus admin_graphql_api_id). */
import { gid, inventoryLevelGid } from "./ids";
import {
  centsToPrice,
  currentQuantityOf,
  priceToCents,
  restTime,
  unfulfilledOf,
  type FulfillmentRec,
  type ItemRec,
  type LevelRec,
  type LineItemRec,
  type OrderEditRec,
  type OrderRec,
  type ProductRec,
  type RefundRec,
} from "./model";
import type { ShopState } from "./state";

export function inventoryLevelPayload(shop: ShopState, level: LevelRec): Record<string, unknown> {
  return {
    inventory_item_id: level.itemId,
    location_id: level.locationId,
    available: level.quantities.available,
    updated_at: restTime(level.updatedAt, shop.timezoneOffsetMinutes),
    admin_graphql_api_id: inventoryLevelGid(level.locationId, level.itemId),
  };
}

export function inventoryItemPayload(
  shop: ShopState,
  item: ItemRec,
  sku: string | null,
): Record<string, unknown> {
  return {
    id: item.id,
    sku,
    created_at: restTime(item.createdAt, shop.timezoneOffsetMinutes),
    updated_at: restTime(item.updatedAt, shop.timezoneOffsetMinutes),
    requires_shipping: item.requiresShipping,
    cost: null,
    country_code_of_origin: null,
    province_code_of_origin: null,
    harmonized_system_code: null,
    tracked: item.tracked,
    country_harmonized_system_codes: [],
    admin_graphql_api_id: gid("InventoryItem", item.id),
  };
}

export function productPayload(shop: ShopState, product: ProductRec): Record<string, unknown> {
  const t = (d: Date): string => restTime(d, shop.timezoneOffsetMinutes);
  const variants = product.variantIds.flatMap((variantId) => {
    const variant = shop.variants.get(variantId);
    if (!variant) return [];
    const item = shop.itemOfVariant(variant);
    const quantity = shop.totalAvailable(item);
    return [
      {
        id: variant.id,
        product_id: product.id,
        title: variant.title,
        price: variant.price,
        position: variant.position,
        inventory_policy: variant.inventoryPolicy.toLowerCase(),
        compare_at_price: null,
        option1: variant.title,
        option2: null,
        option3: null,
        created_at: t(variant.createdAt),
        updated_at: t(variant.updatedAt),
        taxable: true,
        barcode: variant.barcode ?? null,
        sku: variant.sku ?? "",
        inventory_management: item.tracked ? "shopify" : null,
        fulfillment_service: "manual",
        grams: 0,
        weight: 0,
        weight_unit: "kg",
        inventory_item_id: item.id,
        inventory_quantity: quantity,
        old_inventory_quantity: quantity,
        requires_shipping: item.requiresShipping,
        admin_graphql_api_id: gid("ProductVariant", variant.id),
        image_id: null,
      },
    ];
  });
  return {
    admin_graphql_api_id: gid("Product", product.id),
    body_html: "",
    created_at: t(product.createdAt),
    handle: product.handle,
    id: product.id,
    product_type: product.productType,
    published_at: t(product.createdAt),
    template_suffix: null,
    title: product.title,
    updated_at: t(product.updatedAt),
    vendor: product.vendor,
    status: product.status.toLowerCase(),
    published_scope: "global",
    tags: "",
    variants,
    options: [
      {
        id: product.id,
        product_id: product.id,
        name: "Title",
        position: 1,
        values: variants.map((v) => v.title),
      },
    ],
    images: [],
    image: null,
    media: [],
    variant_gids: variants.map((v) => ({
      admin_graphql_api_id: v.admin_graphql_api_id,
      updated_at: v.updated_at,
    })),
  };
}

function lineFulfillmentStatus(line: LineItemRec): string | null {
  if (line.fulfilled === 0) return null;
  return unfulfilledOf(line) > 0 ? "partial" : "fulfilled";
}

export function lineItemPayload(
  shop: ShopState,
  order: OrderRec,
  line: LineItemRec,
): Record<string, unknown> {
  const cancelled = order.cancelledAt !== null;
  const productExists = line.productId !== null && shop.products.has(line.productId);
  return {
    id: line.id,
    admin_graphql_api_id: gid("LineItem", line.id),
    attributed_staffs: [],
    current_quantity: currentQuantityOf(line),
    fulfillable_quantity: cancelled ? 0 : Math.max(0, unfulfilledOf(line)),
    fulfillment_service: "manual",
    fulfillment_status: lineFulfillmentStatus(line),
    gift_card: false,
    grams: 0,
    name:
      line.variantTitle === "Default Title" ? line.title : `${line.title} - ${line.variantTitle}`,
    price: line.price,
    price_set: money(line.price, shop.currency),
    product_exists: productExists,
    product_id: line.productId,
    properties: [],
    quantity: line.quantity,
    requires_shipping: line.requiresShipping,
    selling_plan_id: null,
    sku: line.sku ?? "",
    taxable: true,
    title: line.title,
    total_discount: "0.00",
    total_discount_set: money("0.00", shop.currency),
    variant_id: line.variantId,
    variant_inventory_management: line.tracked ? "shopify" : null,
    variant_title: line.variantTitle === "Default Title" ? null : line.variantTitle,
    vendor: shop.name,
    tax_lines: [],
    duties: [],
    discount_allocations: [],
  };
}

export function fulfillmentPayload(
  shop: ShopState,
  order: OrderRec,
  fulfillment: FulfillmentRec,
): Record<string, unknown> {
  const t = (d: Date): string => restTime(d, shop.timezoneOffsetMinutes);
  return {
    id: fulfillment.id,
    admin_graphql_api_id: gid("Fulfillment", fulfillment.id),
    created_at: t(fulfillment.createdAt),
    location_id: fulfillment.locationId,
    name: fulfillment.name,
    order_id: order.id,
    origin_address: {},
    receipt: {},
    service: "manual",
    shipment_status: null,
    status: fulfillment.status,
    tracking_company: null,
    tracking_number: null,
    tracking_numbers: [],
    tracking_url: null,
    tracking_urls: [],
    updated_at: t(fulfillment.updatedAt),
    line_items: fulfillment.lines.flatMap(({ lineItemId, quantity }) => {
      const line = order.lineItems.find((l) => l.id === lineItemId);
      if (!line) return [];
      return [{ ...lineItemPayload(shop, order, line), quantity }];
    }),
  };
}

export function refundPayload(
  shop: ShopState,
  order: OrderRec,
  refund: RefundRec,
): Record<string, unknown> {
  const t = (d: Date): string => restTime(d, shop.timezoneOffsetMinutes);
  return {
    id: refund.id,
    admin_graphql_api_id: gid("Refund", refund.id),
    created_at: t(refund.createdAt),
    note: refund.note,
    order_id: order.id,
    processed_at: t(refund.createdAt),
    restock: refund.restock,
    total_duties_set: money("0.00", shop.currency),
    user_id: null,
    order_adjustments: [],
    transactions: [],
    refund_line_items: refund.lines.flatMap((refundLine) => {
      const line = order.lineItems.find((l) => l.id === refundLine.lineItemId);
      if (!line) return [];
      const subtotal = centsToPrice(refundLine.subtotalCents);
      return [
        {
          id: refundLine.id,
          line_item_id: refundLine.lineItemId,
          location_id: refundLine.locationId,
          quantity: refundLine.quantity,
          restock_type: refundLine.restockType,
          subtotal: Number(subtotal),
          subtotal_set: money(subtotal, shop.currency),
          total_tax: 0,
          total_tax_set: money("0.00", shop.currency),
          line_item: lineItemPayload(shop, order, line),
        },
      ];
    }),
    duties: [],
  };
}

export function orderFinancialStatus(order: OrderRec): string {
  const total = orderTotalCents(order);
  const refunded = order.refunds.reduce(
    (sum, r) => sum + r.lines.reduce((s, l) => s + l.subtotalCents, 0),
    0,
  );
  if (refunded <= 0) return "paid";
  return refunded >= total ? "refunded" : "partially_refunded";
}

export function orderFulfillmentStatus(order: OrderRec): string | null {
  const fulfilled = order.lineItems.reduce((sum, l) => sum + l.fulfilled, 0);
  if (fulfilled === 0) return null;
  const open = order.lineItems.reduce((sum, l) => sum + Math.max(0, unfulfilledOf(l)), 0);
  return open > 0 && order.cancelledAt === null ? "partial" : "fulfilled";
}

function orderTotalCents(order: OrderRec): number {
  return order.lineItems.reduce(
    (sum, l) => sum + priceToCents(l.price) * (l.quantity + l.editDelta),
    0,
  );
}

export function orderPayload(shop: ShopState, order: OrderRec): Record<string, unknown> {
  const t = (d: Date): string => restTime(d, shop.timezoneOffsetMinutes);
  const current = order.lineItems.reduce(
    (sum, l) => sum + priceToCents(l.price) * currentQuantityOf(l),
    0,
  );
  const total = centsToPrice(orderTotalCents(order));
  const currentTotal = centsToPrice(current);
  const address = {
    first_name: order.shippingAddress.firstName,
    last_name: order.shippingAddress.lastName,
    name: `${order.shippingAddress.firstName} ${order.shippingAddress.lastName}`,
    address1: order.shippingAddress.address1,
    address2: order.shippingAddress.address2,
    city: order.shippingAddress.city,
    province: order.shippingAddress.province,
    province_code: order.shippingAddress.provinceCode,
    zip: order.shippingAddress.zip,
    country: order.shippingAddress.country,
    country_code: order.shippingAddress.countryCode,
    phone: order.shippingAddress.phone,
    company: null,
    latitude: null,
    longitude: null,
  };
  return {
    id: order.id,
    admin_graphql_api_id: gid("Order", order.id),
    app_id: 580111,
    browser_ip: "203.0.113.7",
    buyer_accepts_marketing: false,
    cancel_reason: order.cancelReason,
    cancelled_at: order.cancelledAt ? t(order.cancelledAt) : null,
    closed_at: null,
    confirmation_number: `SG${String(order.number).padStart(7, "0")}`,
    confirmed: true,
    contact_email: order.email,
    created_at: t(order.createdAt),
    currency: shop.currency,
    current_subtotal_price: currentTotal,
    current_total_price: currentTotal,
    current_total_tax: "0.00",
    customer_locale: "en",
    email: order.email,
    financial_status: orderFinancialStatus(order),
    fulfillment_status: orderFulfillmentStatus(order),
    landing_site: "/",
    name: order.name,
    note: null,
    number: order.number - 1000,
    order_number: order.number,
    phone: order.customer.phone,
    presentment_currency: shop.currency,
    processed_at: t(order.createdAt),
    source_name: "web",
    subtotal_price: total,
    tags: "",
    taxes_included: false,
    test: false,
    total_discounts: "0.00",
    total_line_items_price: total,
    total_price: total,
    total_tax: "0.00",
    total_weight: 0,
    updated_at: t(order.updatedAt),
    user_id: null,
    billing_address: address,
    customer: {
      id: order.customer.id,
      email: order.customer.email,
      first_name: order.customer.firstName,
      last_name: order.customer.lastName,
      phone: order.customer.phone,
      state: "enabled",
      verified_email: true,
      currency: shop.currency,
      admin_graphql_api_id: gid("Customer", order.customer.id),
      default_address: { ...address, id: order.customer.id, customer_id: order.customer.id },
    },
    discount_codes: [],
    fulfillments: order.fulfillments.map((f) => fulfillmentPayload(shop, order, f)),
    line_items: order.lineItems.map((line) => lineItemPayload(shop, order, line)),
    payment_gateway_names: ["bogus"],
    refunds: order.refunds.map((r) => refundPayload(shop, order, r)),
    shipping_address: address,
    shipping_lines: [],
    tax_lines: [],
  };
}

export function orderEditPayload(
  shop: ShopState,
  order: OrderRec,
  edit: OrderEditRec,
): Record<string, unknown> {
  const t = restTime(edit.createdAt, shop.timezoneOffsetMinutes);
  return {
    order_edit: {
      id: edit.id,
      app_id: null,
      created_at: t,
      committed_at: t,
      notify_customer: false,
      order_id: order.id,
      staff_note: "",
      user_id: null,
      line_items: {
        additions: edit.additions.map((a) => ({ id: a.lineItemId, delta: a.delta })),
        removals: edit.removals.map((r) => ({ id: r.lineItemId, delta: r.delta })),
      },
      discounts: { additions: [], removals: [] },
      shipping_lines: { additions: [], removals: [] },
    },
  };
}

function money(amount: string, currency: string): Record<string, unknown> {
  return {
    shop_money: { amount, currency_code: currency },
    presentment_money: { amount, currency_code: currency },
  };
}

/** The REST shop: the `app/uninstalled` payload (the app reads `myshopify_domain`/`domain`). */
export function shopPayload(shop: ShopState): Record<string, unknown> {
  const t = (d: Date): string => restTime(d, shop.timezoneOffsetMinutes);
  const offset = shop.timezoneOffsetMinutes;
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(offset) % 60).padStart(2, "0");
  return {
    id: shop.id,
    name: shop.name,
    email: shop.email,
    domain: shop.domain,
    myshopify_domain: shop.domain,
    shop_owner: "Sandbox Owner",
    customer_email: shop.email,
    currency: shop.currency,
    money_format: "${{amount}}",
    timezone: `(GMT${offset < 0 ? "-" : "+"}${hours}:${minutes}) Local`,
    iana_timezone: null,
    country_code: "US",
    plan_name: "basic",
    plan_display_name: "Basic",
    created_at: t(shop.createdAt),
    updated_at: t(shop.createdAt),
    admin_graphql_api_id: gid("Shop", shop.id),
  };
}
