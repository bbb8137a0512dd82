/**
 * The before → after of a stock change (on hand or safety stock) with every channel's effect,
 * shown before the change is applied, and the button that applies it: a plain submit for a
 * small change, a confirmation dialog for a large, negative or uncovering one.
 */
import { BlockStack, Banner, Box, Button, InlineStack, List, Text } from "@shopify/polaris";
import type { ItemChangePreview } from "../services/admin/item-actions.server";
import { ConfirmButton } from "./confirm";

function Change(props: { label: string; before: number; after: number; testId: string }) {
  const changed = props.before !== props.after;
  return (
    <InlineStack align="space-between" gap="200" wrap={false}>
      <Text as="span">{props.label}</Text>
      <span data-preview={props.testId}>
        <Text as="span" numeric fontWeight={changed ? "semibold" : "regular"}>
          {props.before} → {props.after}
        </Text>
      </span>
    </InlineStack>
  );
}

export function ChangePreviewPanel(props: {
  preview: ItemChangePreview;
  /** Submitted to apply the previewed change (intent, key, fields, step=apply). */
  fields: Record<string, string>;
  applyLabel: string;
}) {
  const { preview } = props;
  const needsConfirm = preview.confirmReasons.length > 0;
  const what = preview.intent === "adjust" ? "on hand" : "safety stock";
  return (
    <Box
      padding="300"
      background="bg-surface-secondary"
      borderRadius="200"
      data-testid={`preview-${preview.intent}`}
    >
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">
          Preview at {preview.locationName}
        </Text>
        {preview.intent === "adjust" ? (
          <Change label="On hand" testId="on-hand" {...preview.onHand} />
        ) : (
          <Change label="Safety stock" testId="safety-stock" {...preview.safetyStock} />
        )}
        <Change label="Available to sell (all locations)" testId="ats" {...preview.ats} />
        <Text as="span" variant="bodySm" tone="subdued">
          Each channel shows
        </Text>
        {preview.channels.length === 0 ? (
          <Text as="p" tone="subdued">
            No channel sells this item yet.
          </Text>
        ) : (
          preview.channels.map((c) => (
            <Change
              key={c.listingId}
              label={`${c.connectionName}${c.source ? " (source store)" : ""}${
                preview.channels.filter((o) => o.connectionName === c.connectionName).length > 1
                  ? ` · ${c.listing}`
                  : ""
              }`}
              testId={`channel:${c.connectionName}`}
              before={c.before}
              after={c.after}
            />
          ))
        )}
        {needsConfirm && (
          <Banner
            tone={preview.uncovered > 0 ? "critical" : "warning"}
            title="Check before you apply"
          >
            <List>
              {preview.confirmReasons.map((reason) => (
                <List.Item key={reason}>{reason}</List.Item>
              ))}
            </List>
          </Banner>
        )}
        <InlineStack gap="200">
          {needsConfirm ? (
            <ConfirmButton
              label={props.applyLabel}
              variant="primary"
              tone={preview.uncovered > 0 ? "critical" : undefined}
              title={`Change ${what} at ${preview.locationName}?`}
              body={
                <BlockStack gap="200">
                  <Text as="p">
                    {what === "on hand" ? "On hand" : "Safety stock"}{" "}
                    {what === "on hand" ? preview.onHand.before : preview.safetyStock.before} →{" "}
                    {what === "on hand" ? preview.onHand.after : preview.safetyStock.after};
                    available to sell {preview.ats.before} → {preview.ats.after}.
                  </Text>
                  <List>
                    {preview.confirmReasons.map((reason) => (
                      <List.Item key={reason}>{reason}</List.Item>
                    ))}
                  </List>
                </BlockStack>
              }
              confirmLabel="Yes, apply"
              destructive={preview.uncovered > 0}
              fields={{ ...props.fields, step: "apply", confirmed: "yes" }}
            />
          ) : (
            <Button submit variant="primary">
              {props.applyLabel}
            </Button>
          )}
        </InlineStack>
      </BlockStack>
    </Box>
  );
}
