/**
 * A marketplace told us one of its users deleted their account (eBay
 * MARKETPLACE_ACCOUNT_DELETION, which every eBay application must honour): the connections of
 * that account, in every shop, lose their credentials and account identifiers and stop syncing;
 * each affected merchant sees a sync failure saying what was erased. Orders already in the ledger
 * keep their stock effect (they carry no personal data: order and line ids, SKUs, quantities).
 * Idempotent: a repeated notification finds nothing left to erase.
 */
import type { ChannelKind } from "../../channels/channel-adapter";
import { adapterFor } from "../../channels/registry.server";
import { log } from "../../logger.server";
import * as connections from "../../repositories/connections.server";

const REASON =
  "the marketplace account was deleted at its owner's request: its credentials and account identifiers were erased";

export async function eraseDeletedAccount(
  kind: ChannelKind,
  accountRefSha256: string,
): Promise<number> {
  const erased = await connections.eraseDeletedAccount(kind, accountRefSha256, REASON);
  const adapter = adapterFor(kind);
  for (const connection of erased) {
    adapter.forgetCredentials(connection.id);
    await connections.recordConnectionFailure({
      shopId: connection.shopId,
      connectionId: connection.id,
      kind: "account_deleted",
      reason: `${REASON} (credentials deleted, account ref and name replaced, account settings dropped)`,
    });
  }
  log({ kind, connections: erased.map((c) => c.id) }).info("deleted marketplace account erased");
  return erased.length;
}
