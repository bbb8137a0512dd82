/**
 * The preview of a buffer rule change (the Rules page's create, edit and delete, and the
 * Inventory page's bulk "Set buffer…"): a hook that asks the page's action for `step=preview`
 * whenever the fields change, and the summary of what it answered — how many listings and SKUs
 * would show another number, per channel (the source store named), and the first before → after;
 * and the channel choice those forms share.
 */
import { useFetcher } from "@remix-run/react";
import { BlockStack, Box, List, Select, Text } from "@shopify/polaris";
import { useEffect, useState } from "react";
import type { RulePreview } from "../services/admin/buffer-rules.server";

export type RulePreviewAnswer =
  | { ok: true; intent: "preview"; preview: RulePreview }
  | { ok: true; intent: string; message: string }
  | {
      ok: false;
      intent: string | null;
      fieldErrors: Record<string, string>;
      formError?: string;
    };

/**
 * Asks the page's action what a rule change would do whenever `fields` change (after a short
 * pause while typing); nothing is written. The route should not revalidate on `step=preview`.
 */
export function useRulePreview(fields: Record<string, string> | null) {
  const fetcher = useFetcher<RulePreviewAnswer>();
  const key = fields ? JSON.stringify(fields) : null;
  const { submit, state, data } = fetcher;
  // What was asked, and the answer on hand when it was asked: a request that ends without a new
  // answer (cancelled by a navigation or a revalidation, or lost) is asked again, a few times.
  const [asked, setAsked] = useState<{ key: string; before: unknown; tries: number } | null>(null);
  const unanswered = asked !== null && state === "idle" && data === asked.before;
  useEffect(() => {
    // One preview at a time: a newer one waits for the current answer instead of aborting it.
    if (!key || state !== "idle") return;
    const again = unanswered && asked.key === key && asked.tries < 3;
    if (asked?.key === key && !again) return;
    const timer = setTimeout(() => {
      setAsked({ key, before: data, tries: again ? asked.tries + 1 : 1 });
      submit(
        { ...(JSON.parse(key) as Record<string, string>), step: "preview" },
        { method: "post" },
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [key, asked, state, data, unanswered, submit]);
  const current = key !== null && asked?.key === key && state === "idle" && !unanswered;
  return {
    preview: current && data && data.ok && "preview" in data ? data.preview : null,
    failure: current && data && !data.ok ? data : undefined,
    loading: key !== null && !current && !(unanswered && asked.tries >= 3),
  };
}

/** "Changes 12 listings (12 SKUs): Outlet store 12 — e.g. SKU-A 20 → 15". */
export function RulePreviewSummary(props: { preview: RulePreview | null; loading: boolean }) {
  const p = props.preview;
  if (!p) {
    return (
      <Text as="p" tone="subdued">
        {props.loading ? "Working out what this changes…" : " "}
      </Text>
    );
  }
  return (
    <Box padding="300" background="bg-surface-secondary" borderRadius="200">
      <BlockStack gap="150">
        <span data-testid="rule-preview" data-changed={p.listingsChanged}>
          <Text as="p" fontWeight="semibold">
            {p.listingsChanged === 0
              ? `No listing would show a different number now (${p.inScope} listing${p.inScope === 1 ? "" : "s"} in scope).`
              : `${p.listingsChanged} listing${p.listingsChanged === 1 ? "" : "s"} (${p.skusChanged} SKU${p.skusChanged === 1 ? "" : "s"}) would show a different number.`}
          </Text>
        </span>
        {p.channels.length > 0 && (
          <Text as="p" variant="bodySm">
            {p.channels
              .map((c) => `${c.name}${c.source ? " (source store)" : ""}: ${c.listings}`)
              .join(" · ")}
          </Text>
        )}
        {p.examples.length > 0 && (
          <List>
            {p.examples.map((e) => (
              <List.Item key={`${e.connectionName}|${e.sku}`}>
                {e.sku} on {e.connectionName}: {e.before} → {e.after}
              </List.Item>
            ))}
          </List>
        )}
        {p.includesSource && (
          <Text as="p" variant="bodySm" tone="caution">
            “All channels” includes the source store{p.sourceName ? ` (${p.sourceName})` : ""}: its
            own storefront shows the buffered number too.
          </Text>
        )}
      </BlockStack>
    </Box>
  );
}

/**
 * The channel of a buffer rule: all channels (the source store's storefront included, and said
 * so) or one (the source store named). `explainEach` also says what choosing one channel covers.
 */
export function RuleChannelSelect(props: {
  connections: readonly { id: string; name: string; role: string }[];
  value: string;
  onChange: (value: string) => void;
  name?: string;
  error?: string;
  explainEach?: boolean;
}) {
  const source = props.connections.find((c) => c.role === "source");
  const helpText =
    props.value === "all" && source
      ? `Applies to ${source.name} (the source store’s storefront) as well as every sales channel.`
      : !props.explainEach
        ? undefined
        : props.value === source?.id
          ? "Only the source store’s own storefront."
          : "Only this sales channel; the source store is not included.";
  return (
    <Select
      label="Channel"
      name={props.name}
      options={[
        { label: "All channels (source store included)", value: "all" },
        ...props.connections.map((c) => ({
          label: `${c.name}${c.role === "source" ? " (source store)" : ""}`,
          value: c.id,
        })),
      ]}
      value={props.value}
      onChange={props.onChange}
      helpText={helpText}
      error={props.error}
    />
  );
}
