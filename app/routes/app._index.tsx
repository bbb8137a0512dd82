/**
 * `/app`: the Overview page of the embedded admin: the shop, headline numbers (oversold units,
 * open failures, unmatched lines, catalog issues) and each connection's sync state.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link as RemixLink, useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Card,
  EmptyState,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Link,
  Page,
  Text,
} from "@shopify/polaris";
import { ago, formatAge, formatUtc } from "../components/format";
import { ConnectionStatusBadge } from "../components/status-badge";
import { getAdminOverview } from "../services/admin/overview.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getAdminOverview(session.shop);
};

function Metric(props: {
  label: string;
  value: string | number;
  detail?: string;
  tone?: "critical" | "success";
  to?: string;
}) {
  const value = (
    <Text as="p" variant="headingLg" tone={props.tone}>
      {props.value}
    </Text>
  );
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="bodySm" tone="subdued">
          {props.label}
        </Text>
        {props.to ? (
          <RemixLink to={props.to} style={{ color: "inherit", textDecoration: "none" }}>
            {value}
          </RemixLink>
        ) : (
          value
        )}
        {props.detail && (
          <Text as="p" variant="bodySm" tone="subdued">
            {props.detail}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

export default function Overview() {
  const { now, shop, connections, headline } = useLoaderData<typeof loader>();
  const salesChannels = connections.filter((c) => c.role === "sales");
  const { oversold24h, oversold7d } = headline;

  return (
    <Page title="Overview">
      <TitleBar title="StockGuard" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <InlineStack align="space-between" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  {shop?.name ?? shop?.domain ?? "Your store"}
                </Text>
                {shop && (
                  <Badge tone={shop.syncEnabled ? "success" : "attention"}>
                    {shop.syncEnabled ? "Sync on" : "Sync paused"}
                  </Badge>
                )}
              </InlineStack>
              <Text as="p" tone="subdued">
                {shop
                  ? `${shop.domain} · installed ${formatUtc(shop.installedAt).slice(0, 10)} · ${headline.items} stock item${headline.items === 1 ? "" : "s"}`
                  : "This store has not finished installing StockGuard."}
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>

        <Layout.Section>
          <InlineGrid columns={{ xs: 2, md: 5 }} gap="300">
            <Metric
              label="Oversold, last 24 h"
              value={`${oversold24h.units} units`}
              detail={`${oversold24h.incidents} incident${oversold24h.incidents === 1 ? "" : "s"}`}
              tone={oversold24h.units > 0 ? "critical" : undefined}
              to="/app/incidents"
            />
            <Metric
              label="Oversold, last 7 days"
              value={`${oversold7d.units} units`}
              detail={`${oversold7d.incidents} incident${oversold7d.incidents === 1 ? "" : "s"}`}
              tone={oversold7d.units > 0 ? "critical" : undefined}
              to="/app/incidents"
            />
            <Metric
              label="Open sync failures"
              value={headline.openFailures}
              tone={headline.openFailures > 0 ? "critical" : undefined}
              to="/app/health"
            />
            <Metric
              label="Unmatched order lines"
              value={headline.unmatchedLines}
              tone={headline.unmatchedLines > 0 ? "critical" : undefined}
              to="/app/health"
            />
            <Metric label="Catalog issues" value={headline.catalogIssues} to="/app/health" />
          </InlineGrid>
        </Layout.Section>

        {salesChannels.length === 0 && (
          <Layout.Section>
            <Card>
              <EmptyState
                heading="Connect your first sales channel"
                image="https://cdn.shopify.com/s/files/1/0262/4071/2726/files/emptystate-files.png"
              >
                <BlockStack gap="200">
                  <p>
                    StockGuard keeps this store&apos;s stock as the single pool. Connect another
                    Shopify store or a marketplace account and every sale anywhere is committed once
                    and pushed everywhere within seconds.
                  </p>
                  <p>For now, channels are connected from the command line:</p>
                  <Box background="bg-surface-secondary" padding="200" borderRadius="200">
                    <code style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
                      {`npm run cli -- channel:connect --shop ${shop?.domain ?? "<your-store>.myshopify.com"} --kind shopify --store <other-store>.myshopify.com --token <admin-api-token>`}
                    </code>
                  </Box>
                </BlockStack>
              </EmptyState>
            </Card>
          </Layout.Section>
        )}

        <Layout.Section>
          <Card padding="0">
            <Box padding="400" paddingBlockEnd="200">
              <Text as="h2" variant="headingMd">
                Connections
              </Text>
            </Box>
            <IndexTable
              resourceName={{ singular: "connection", plural: "connections" }}
              itemCount={connections.length}
              selectable={false}
              emptyState={
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    No connections yet.
                  </Text>
                </Box>
              }
              headings={[
                { title: "Channel" },
                { title: "Status" },
                { title: "Listings", alignment: "end" },
                { title: "Pending pushes", alignment: "end" },
                { title: "Oldest pending" },
                { title: "Last push" },
                { title: "Last reconcile" },
                { title: "Open failures", alignment: "end" },
              ]}
            >
              {connections.map((c, index) => (
                <IndexTable.Row id={c.id} key={c.id} position={index}>
                  <IndexTable.Cell>
                    <BlockStack gap="050">
                      <InlineStack gap="100" blockAlign="center" wrap={false}>
                        <Text as="span" fontWeight="semibold">
                          {c.name}
                        </Text>
                        <Badge tone={c.role === "source" ? "info" : undefined}>
                          {c.role === "source" ? "Stock source" : "Sales channel"}
                        </Badge>
                      </InlineStack>
                      <Text as="span" variant="bodySm" tone="subdued">
                        {c.kind} · {c.account}
                      </Text>
                    </BlockStack>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <ConnectionStatusBadge status={c.status} reason={c.statusReason} />
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <Text as="span" alignment="end" numeric>
                      {c.listings}
                    </Text>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <Text
                      as="span"
                      alignment="end"
                      numeric
                      tone={c.pendingPushes > 0 ? "caution" : undefined}
                    >
                      {c.pendingPushes}
                    </Text>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    {c.oldestPendingAgeMs === null ? "—" : formatAge(c.oldestPendingAgeMs)}
                  </IndexTable.Cell>
                  <IndexTable.Cell>{ago(c.lastPushAt, now)}</IndexTable.Cell>
                  <IndexTable.Cell>{ago(c.lastReconciledAt, now)}</IndexTable.Cell>
                  <IndexTable.Cell>
                    {c.openFailures > 0 ? (
                      <Link url="/app/health">
                        <Text as="span" tone="critical" numeric>
                          {c.openFailures}
                        </Text>
                      </Link>
                    ) : (
                      <Text as="span" alignment="end" numeric>
                        0
                      </Text>
                    )}
                  </IndexTable.Cell>
                </IndexTable.Row>
              ))}
            </IndexTable>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
