/**
 * Commerce Identity API v1 (`/commerce/identity/v1`, served by eBay on apiz.ebay.com):
 * `getUser` tells an application which seller a user token belongs to — the immutable `userId`
 * (the one MARKETPLACE_ACCOUNT_DELETION names) and the `username`. User token with
 * `commerce.identity.readonly` [V https://developer.ebay.com/api-docs/commerce/identity/resources/user/methods/getUser].
 * Only the account fields are served; the personal blocks (`individualAccount`, `businessAccount`:
 * names, email, address) need further scopes and are left out.
 */
import type { ApiModule, ApiRequest } from "./api";
import { ACCESS } from "./errors";
import type { EbayResult } from "./http";
import { SCOPES } from "./model";

function getUser(req: ApiRequest): EbayResult {
  const seller = req.seller;
  if (!seller) throw ACCESS.insufficientScope();
  return {
    status: 200,
    body: {
      userId: seller.userId,
      username: seller.username,
      accountType: "BUSINESS",
      registrationMarketplaceId: seller.marketplaceId,
      status: "CONFIRMED",
    },
  };
}

export const identityApi: ApiModule = {
  name: "commerce.identity",
  prefix: "/commerce/identity/v1",
  invalidJson: () => ACCESS.invalidRequest(),
  routes: [
    {
      method: "GET",
      pattern: /^\/user$/,
      operation: "getUser",
      auth: "user",
      scopes: [SCOPES.identityReadonly],
      handler: getUser,
    },
  ],
};
