/**
 * Domain errors: pure, no HTTP status, no I/O. Routes map them to 4xx through `AppError`;
 * workers treat them as permanent (retrying the same input cannot succeed).
 */
export type DomainErrorCode =
  | "invalid_quantity"
  | "missing_idempotency_key"
  | "unknown_shop"
  | "shop_uninstalled"
  | "unknown_item"
  | "unknown_location"
  | "invalid_command"
  | "invalid_rule"
  | "rule_exists";

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export class InvalidQuantityError extends DomainError {
  constructor(field: string, value: unknown) {
    super("invalid_quantity", `${field} must be a non-negative integer, got ${String(value)}`);
  }
}

export class MissingIdempotencyKeyError extends DomainError {
  constructor() {
    super("missing_idempotency_key", "every ledger command needs an idempotency key");
  }
}

export class UnknownShopError extends DomainError {
  constructor(shop: string) {
    super("unknown_shop", `unknown shop ${shop}`);
  }
}

export class ShopUninstalledError extends DomainError {
  constructor(shop: string) {
    super("shop_uninstalled", `shop ${shop} has uninstalled StockGuard; its sync is disabled`);
  }
}

/** A buffer rule that cannot be saved; `field` names the input at fault (for forms). */
export class RuleError extends DomainError {
  constructor(
    code: "invalid_rule" | "rule_exists",
    message: string,
    readonly field: "connectionId" | "sku" | "kind" | "value",
  ) {
    super(code, message);
  }
}
