/**
 * Test helpers for the local Amazon: a seed (one seller with MFN, FBA and mixed listings, two
 * queues Amazon may send to), LWA token helpers and an SP-API fetch wrapper (the SQS client
 * helper lives in sqs-client.ts so only the SQS tests load the AWS SDK).
 * Not a test file itself.
 */
import { DEFAULT_APP, DEFAULT_AWS, type AmazonSeed } from "./sandbox";
import type { LocalAmazon } from "./server";

export const SELLER = "A1SANDBOXSELLER";
export const OTHER_SELLER = "A2OTHERSELLER";
export const MARKETPLACE = "ATVPDKIKX0DER";
export const REFRESH_TOKEN = "Atzr|sandbox-seller-refresh-token";
export const OTHER_REFRESH_TOKEN = "Atzr|other-seller-refresh-token";
export const ORDERS_QUEUE = "sp-api-notifications";
export const EVENTS_QUEUE = "sp-api-eventbridge";

export function seed(overrides: Partial<AmazonSeed> = {}): AmazonSeed {
  return {
    queues: [
      { name: ORDERS_QUEUE, allowAmazon: true },
      { name: EVENTS_QUEUE, allowAmazon: true },
    ],
    sellers: [
      {
        sellerId: SELLER,
        name: "Sandbox Seller",
        refreshToken: REFRESH_TOKEN,
        listings: [
          {
            sku: "MUG-BLUE",
            asin: "B0MUGBLUE01",
            productType: "DRINKING_CUP",
            quantity: 10,
            leadTimeToShipMaxDays: 3,
          },
          { sku: "MUG-RED", asin: "B0MUGRED001", productType: "DRINKING_CUP", quantity: 3 },
          { sku: "TEE-FBA", asin: "B0TEEFBA001", productType: "SHIRT", fbaQuantity: 20 },
          { sku: "CAP-MIX", asin: "B0CAPMIX001", productType: "HAT", quantity: 5, fbaQuantity: 7 },
        ],
      },
      {
        sellerId: OTHER_SELLER,
        refreshToken: OTHER_REFRESH_TOKEN,
        listings: [{ sku: "OTHER-1", quantity: 1 }],
      },
    ],
    ...overrides,
  };
}

export type HttpAnswer<T = unknown> = { status: number; headers: Headers; body: T; text: string };

async function answer<T>(response: Response): Promise<HttpAnswer<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

/** POSTs a form to the LWA token endpoint. */
export async function lwa(
  local: LocalAmazon,
  params: Record<string, string>,
): Promise<HttpAnswer<Record<string, unknown>>> {
  const response = await fetch(local.lwaTokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" },
    body: new URLSearchParams(params).toString(),
  });
  return answer(response);
}

export async function sellerToken(
  local: LocalAmazon,
  refreshToken = REFRESH_TOKEN,
): Promise<string> {
  const result = await lwa(local, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: DEFAULT_APP.clientId,
    client_secret: DEFAULT_APP.clientSecret,
  });
  if (result.status !== 200) throw new Error(`LWA refused: ${result.text}`);
  return String(result.body.access_token);
}

export async function grantlessToken(local: LocalAmazon): Promise<string> {
  const result = await lwa(local, {
    grant_type: "client_credentials",
    scope: "sellingpartnerapi::notifications",
    client_id: DEFAULT_APP.clientId,
    client_secret: DEFAULT_APP.clientSecret,
  });
  if (result.status !== 200) throw new Error(`LWA refused: ${result.text}`);
  return String(result.body.access_token);
}

/** Calls the SP-API with `x-amz-access-token` (omitted when token is null). */
export async function sp<T = Record<string, unknown>>(
  local: LocalAmazon,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token !== null) headers["x-amz-access-token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${local.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return answer<T>(response);
}

export function queueUrl(local: LocalAmazon, name: string): string {
  return `${local.url}/${DEFAULT_AWS.accountId}/${name}`;
}

export function queueArn(name: string): string {
  return `arn:aws:sqs:${DEFAULT_AWS.region}:${DEFAULT_AWS.accountId}:${name}`;
}

export const LISTING_PATH = (sku: string, seller = SELLER): string =>
  `/listings/2021-08-01/items/${seller}/${encodeURIComponent(sku)}?marketplaceIds=${MARKETPLACE}`;

export function quantityPatch(
  quantity: number,
  op = "replace",
  extra: Record<string, unknown> = {},
) {
  return {
    productType: "DRINKING_CUP",
    patches: [
      {
        op,
        path: "/attributes/fulfillment_availability",
        value: [{ fulfillment_channel_code: "DEFAULT", quantity, ...extra }],
      },
    ],
  };
}
