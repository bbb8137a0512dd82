/** An error a control or storefront route answers with `status` and `{ error: code, message }`. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string): ControlError {
  return new ControlError(400, "invalid_request", message);
}

export function notFound(what: string): ControlError {
  return new ControlError(404, "not_found", `${what} not found`);
}

export function unprocessable(code: string, message: string, extra?: Record<string, unknown>) {
  return new ControlError(422, code, message, extra);
}
