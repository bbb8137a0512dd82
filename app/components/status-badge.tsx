/** The Polaris badge the admin pages show for a connection's status, toned by status. */
import { Badge } from "@shopify/polaris";

const TONE = {
  active: "success",
  paused: "attention",
  error: "critical",
  disconnected: undefined,
} as const;

/** A connection's status, with the reason when there is one ("paused: uninstalled"). */
export function ConnectionStatusBadge(props: { status: string; reason?: string | null }) {
  const tone = TONE[props.status as keyof typeof TONE];
  return (
    <Badge tone={tone}>{props.reason ? `${props.status}: ${props.reason}` : props.status}</Badge>
  );
}
