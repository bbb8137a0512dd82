/**
 * Input parsing for the admin's loaders and actions. Every field arrives as a string (a form
 * field or a query parameter), is validated with zod, and a failure becomes per-field messages
 * the page shows next to its inputs, with the HTTP status the route answers with: 400 for input
 * that cannot be accepted (nothing changed), 404 for an id unknown in this shop, 422 for a
 * ledger refusal of a well-formed request ("only 0 unit(s) are held").
 */
import { z } from "zod";
import { DomainError } from "../../domain/errors";

export type FieldErrors = Record<string, string>;

export type FormFailure = {
  ok: false;
  intent: string | null;
  fieldErrors: FieldErrors;
  formError?: string;
  /** The HTTP status of the answer (see above; 409: a change that needs confirmation). */
  status: 400 | 404 | 409 | 422;
};

export type ParsedForm<T> = { ok: true; data: T } | FormFailure;

/**
 * Quantities are stored in 32-bit integer columns; anything beyond ±1,000,000,000 is a typo,
 * not stock (and leaves room for the sums an ATS computes).
 */
export const MAX_UNITS = 1_000_000_000;

/**
 * A whole number typed into a text field: "", "1.5" and "abc" are refused with a message, and
 * so is anything outside [min, max] (default: ±1,000,000,000 units).
 */
export const intField = (
  label: string,
  bounds: { min?: number; max?: number } = {},
): z.ZodType<number, string> => {
  const min = bounds.min ?? -MAX_UNITS;
  const max = bounds.max ?? MAX_UNITS;
  return z
    .string({ error: `${label} is required` })
    .trim()
    .min(1, `${label} is required`)
    .regex(/^[-+]?\d+$/, `${label} must be a whole number`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `${label} must be at least ${min.toLocaleString("en-US")}`)
        .max(max, `${label} must be at most ${max.toLocaleString("en-US")}`),
    );
};

/** A calendar date typed as YYYY-MM-DD that exists (no 2026-13-45) and that PostgreSQL stores. */
export const dateField = (label: string): z.ZodType<string, string> =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${label}: use a date like 2026-11-26`)
    .refine((value) => {
      const date = new Date(`${value}T00:00:00.000Z`);
      const year = Number(value.slice(0, 4));
      return (
        !Number.isNaN(date.getTime()) &&
        date.toISOString().slice(0, 10) === value &&
        year >= 1970 &&
        year <= 9999
      );
    }, `${label}: that day is not in the calendar; use a date like 2026-11-26`);

/** The value of a hidden field or link parameter the page itself wrote, when it was altered. */
export const STALE_PAGE = "This link or form is out of date; reload the page and try again";

/** PostgreSQL text cannot hold NUL: a value with one would fail in the database, not here. */
export const storable = (value: string): boolean => !value.includes("\u0000");

function validate<S extends z.ZodType>(
  schema: S,
  values: Record<string, string>,
): ParsedForm<z.infer<S>> {
  const result = schema.safeParse(values);
  const fieldErrors: FieldErrors = {};
  for (const issue of result.error?.issues ?? []) {
    const field = issue.path.map(String).join(".") || "form";
    fieldErrors[field] ??= issue.message;
  }
  for (const [name, value] of Object.entries(values)) {
    if (!storable(value)) fieldErrors[name] ??= "Contains a character that is not allowed";
  }
  if (result.success && Object.keys(fieldErrors).length === 0) {
    return { ok: true, data: result.data };
  }
  // Errors on what the page itself writes (which action, its key, a hidden id) have no field to
  // sit next to.
  const formError =
    fieldErrors.form ??
    fieldErrors.intent ??
    fieldErrors.key ??
    Object.values(fieldErrors).find((message) => message === STALE_PAGE);
  return {
    ok: false,
    intent: values.intent ?? null,
    fieldErrors,
    ...(formError ? { formError } : {}),
    status: 400,
  };
}

/** An action's form fields (strings only; files are ignored). */
export function parseForm<S extends z.ZodType>(schema: S, form: FormData): ParsedForm<z.infer<S>> {
  const values: Record<string, string> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") values[name] = value;
  }
  return validate(schema, values);
}

/**
 * A loader's query parameters `names` (the others, e.g. Shopify's `host` or `id_token`, are not
 * the page's); empty ones count as absent (a GET form sends every field).
 */
export function parseSearch<S extends z.ZodType>(
  schema: S,
  search: URLSearchParams,
  names: readonly string[],
): ParsedForm<z.infer<S>> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = search.get(name);
    if (value) values[name] = value;
  }
  return validate(schema, values);
}

/** A ledger refusal ("only 0 unit(s) are held") as a message for the form that caused it. */
export function domainFailure(error: unknown, intent: string | null): FormFailure {
  if (error instanceof DomainError) {
    return { ok: false, intent, fieldErrors: {}, formError: error.message, status: 422 };
  }
  throw error;
}

/** "the token lacks…" → "The token lacks…" (service messages start in lower case). */
export function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * A use case's refusal of a well-formed request (an expired link code, a token without the
 * scopes, a disconnected channel) as the form's message, with nothing changed; `refusals` are
 * the error classes the use case throws for the merchant to read. Anything else is a bug and
 * propagates (500).
 */
export function refusal(
  error: unknown,
  intent: string | null,
  refusals: readonly (abstract new (...args: never[]) => Error)[],
): FormFailure {
  if (error instanceof Error && refusals.some((kind) => error instanceof kind)) {
    return { ok: false, intent, fieldErrors: {}, formError: sentence(error.message), status: 422 };
  }
  return domainFailure(error, intent);
}
