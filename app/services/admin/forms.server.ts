import { z } from "zod";
import { DomainError } from "../../domain/errors";

/**
 * Form parsing for the admin's actions: every field arrives as a string, is validated with zod,
 * and a failure becomes per-field messages the page shows next to its inputs (HTTP 400, nothing
 * changed). Domain errors from the ledger become a form-level message (HTTP 422).
 */
export type FieldErrors = Record<string, string>;

export type FormFailure = {
  ok: false;
  intent: string | null;
  fieldErrors: FieldErrors;
  formError?: string;
};

export type ParsedForm<T> = { ok: true; data: T } | FormFailure;

/** Quantities are stored in 32-bit integer columns; anything beyond is a typo, not stock. */
const MAX_UNITS = 1_000_000_000;

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
        .min(min, `${label} must be at least ${min}`)
        .max(max, `${label} must be at most ${max}`),
    );
};

export function parseForm<S extends z.ZodType>(schema: S, form: FormData): ParsedForm<z.infer<S>> {
  const values: Record<string, string> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") values[name] = value;
  }
  const result = schema.safeParse(values);
  if (result.success) return { ok: true, data: result.data };
  const fieldErrors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join(".") || "form";
    fieldErrors[field] ??= issue.message;
  }
  return { ok: false, intent: values.intent ?? null, fieldErrors };
}

/** A ledger refusal ("only 0 unit(s) are held") as a message for the form that caused it. */
export function domainFailure(error: unknown, intent: string | null): FormFailure {
  if (error instanceof DomainError) {
    return { ok: false, intent, fieldErrors: {}, formError: error.message };
  }
  throw error;
}
