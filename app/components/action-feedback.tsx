/**
 * How admin pages report an action's `ActionResult`: an App Bridge toast on success, and on
 * failure a form-level banner and per-field messages, shown only on the form (`intent`) that
 * was submitted.
 */
import { useAppBridge } from "@shopify/app-bridge-react";
import { Banner } from "@shopify/polaris";
import { useEffect } from "react";

export type ActionResult =
  | { ok: true; message: string }
  | { ok: false; intent: string | null; fieldErrors: Record<string, string>; formError?: string };

/** Shows an App Bridge toast when an action succeeds (once per result). */
export function useSuccessToast(result: ActionResult | undefined): void {
  const shopify = useAppBridge();
  useEffect(() => {
    if (result?.ok) shopify.toast.show(result.message);
  }, [result, shopify]);
}

/** The form-level error of a failed action, when it belongs to the form `intent`. */
export function FormErrorBanner(props: { result: ActionResult | undefined; intent: string }) {
  const result = props.result;
  if (!result || result.ok || result.intent !== props.intent) return null;
  const fieldCount = Object.keys(result.fieldErrors).length;
  if (!result.formError && fieldCount === 0) return null;
  return (
    <Banner tone="critical" title={result.formError ? "Not applied" : "Check the form"}>
      <p>{result.formError ?? "Nothing was changed. Fix the highlighted fields and try again."}</p>
    </Banner>
  );
}

/** The message of one field when the failed action was this form's. */
export function fieldError(
  result: ActionResult | undefined,
  intent: string,
  field: string,
): string | undefined {
  if (!result || result.ok || result.intent !== intent) return undefined;
  return result.fieldErrors[field];
}
