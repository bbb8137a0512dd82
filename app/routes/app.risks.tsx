/**
 * `/app/risks`: variants and listings that defeat StockGuard whatever it publishes (keeps
 * selling at 0, untracked, empty or duplicate SKUs, a listing with no item, an item sold where it
 * has no listing), each with its fix: "Stop selling at 0" after confirmation where the store
 * allows it, otherwise a link to the variant in the Shopify admin or the StockGuard page.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  IndexTable,
  InlineStack,
  Page,
  Text,
} from "@shopify/polaris";
import { FormErrorBanner, useSuccessToast } from "../components/action-feedback";
import { ConfirmButton } from "../components/confirm";
import type { Risk, RiskKind } from "../domain/risk";
import { parseForm } from "../services/admin/forms.server";
import { getRisksPage, stopSellingAtZero, ZRiskAction } from "../services/risk/risk.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getRisksPage(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZRiskAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await stopSellingAtZero({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

const KIND_LABEL: Record<RiskKind, string> = {
  continue_selling: "Sells at 0",
  untracked: "Not tracked",
  empty_sku: "No SKU",
  duplicate_sku: "Duplicate SKU",
  listing_without_item: "Listing without item",
  sold_without_listing: "Sold without listing",
};

function Fix({ risk }: { risk: Risk }) {
  const fix = risk.fix;
  switch (fix.type) {
    case "set_deny":
      return (
        <InlineStack gap="200" blockAlign="center">
          <ConfirmButton
            label="Stop selling at 0"
            size="slim"
            accessibilityLabel={`Stop selling ${risk.sku ?? "this variant"} at 0 on ${risk.connectionName}`}
            title={`Stop selling ${risk.sku ?? "this variant"} when it is out of stock?`}
            body={`${risk.connectionName} will turn off "Continue selling when out of stock" for ${risk.title ?? risk.sku ?? "this variant"}: at 0 the store refuses the sale, so StockGuard's quantities hold.`}
            confirmLabel="Stop selling at 0"
            fields={{
              intent: "set_deny",
              connectionId: fix.connectionId,
              variantRef: fix.variantRefs[0] ?? "",
              confirm: "yes",
            }}
          />
          {fix.url && (
            <Button variant="plain" url={fix.url} target="_blank">
              Open in Shopify
            </Button>
          )}
        </InlineStack>
      );
    case "link":
      return (
        <Button size="slim" url={fix.url} target="_blank">
          {fix.label}
        </Button>
      );
    case "page":
      return <Link to={fix.path}>{fix.label}</Link>;
    case "text":
      return (
        <Text as="span" tone="subdued">
          {fix.label}
        </Text>
      );
  }
}

export default function Risks() {
  const { risks, summary } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);

  return (
    <Page
      title="Risk checks"
      subtitle="Settings on your channels that let them sell what StockGuard says is gone"
    >
      <TitleBar title="Risk checks" />
      <BlockStack gap="400">
        <FormErrorBanner result={result} intent="set_deny" />
        <Card>
          <InlineStack gap="300" wrap>
            {(Object.keys(KIND_LABEL) as RiskKind[]).map((kind) => (
              <span key={kind} data-testid={`risk-count-${kind}`} data-count={summary.byKind[kind]}>
                <Badge tone={summary.byKind[kind] > 0 ? "critical" : "success"}>
                  {`${KIND_LABEL[kind]}: ${summary.byKind[kind]}`}
                </Badge>
              </span>
            ))}
          </InlineStack>
        </Card>
        <Card padding="0">
          <IndexTable
            resourceName={{ singular: "risk", plural: "risks" }}
            itemCount={risks.length}
            selectable={false}
            emptyState={
              <Box padding="400">
                <Text as="p" tone="subdued">
                  No risks found: every variant is tracked, stops selling at 0 and is synced.
                </Text>
              </Box>
            }
            headings={[
              { title: "Risk" },
              { title: "Channel" },
              { title: "SKU" },
              { title: "Why it matters" },
              { title: "Fix" },
            ]}
          >
            {risks.map((r, index) => (
              <IndexTable.Row id={r.key} key={r.key} position={index}>
                <IndexTable.Cell>
                  <Badge tone="critical">{KIND_LABEL[r.kind]}</Badge>
                </IndexTable.Cell>
                <IndexTable.Cell>{r.connectionName}</IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span" fontWeight="semibold">
                      {r.sku ?? "no SKU"}
                    </Text>
                    {r.title && (
                      <Text as="span" variant="bodySm" tone="subdued">
                        {r.title}
                      </Text>
                    )}
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <div style={{ whiteSpace: "normal", maxWidth: 420 }}>
                    <Text as="span" variant="bodySm">
                      {r.why}
                    </Text>
                  </div>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Fix risk={r} />
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Card>
      </BlockStack>
    </Page>
  );
}
