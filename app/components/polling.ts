/**
 * Live pages without a socket: while `active`, the route's loaders run again every `intervalMs`
 * (Remix revalidation, so the data request carries the session token like any other), only when
 * the page is visible and no other load is in flight.
 */
import { useRevalidator } from "@remix-run/react";
import { useEffect } from "react";

export function usePolling(active: boolean, intervalMs = 1_500): void {
  const revalidator = useRevalidator();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle" && document.visibilityState === "visible") {
        revalidator.revalidate();
      }
    }, intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs, revalidator]);
}
