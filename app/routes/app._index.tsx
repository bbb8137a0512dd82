import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Card,
  EmptyState,
  IndexTable,
  InlineStack,
  Layout,
  Page,
  Text,
} from "@shopify/polaris";
import { getOverview } from "../services/overview.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getOverview(session.shop);
};

const statusTone = {
  active: "success",
  paused: "attention",
  error: "critical",
  disconnected: undefined,
} as const;

export default function Overview() {
  const { shop, connections } = useLoaderData<typeof loader>();
  const salesChannels = connections.filter((c) => c.role === "sales");

  return (
    <Page title="Overview">
      <TitleBar title="StockGuard" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <InlineStack align="space-between">
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
                  ? `${shop.domain} · installed ${new Date(shop.installedAt).toLocaleDateString()}`
                  : "This store has not finished installing StockGuard."}
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <Card padding="0">
            {salesChannels.length === 0 ? (
              <EmptyState
                heading="Connect your first sales channel"
                image="https://cdn.shopify.com/s/files/1/0262/4071/2726/files/emptystate-files.png"
              >
                <p>
                  StockGuard keeps this store&apos;s stock as the single pool. Connect another
                  Shopify store or a marketplace account and every sale anywhere is committed once
                  and pushed everywhere within seconds.
                </p>
              </EmptyState>
            ) : null}
            {connections.length > 0 && (
              <IndexTable
                resourceName={{ singular: "connection", plural: "connections" }}
                itemCount={connections.length}
                selectable={false}
                headings={[
                  { title: "Channel" },
                  { title: "Role" },
                  { title: "Account" },
                  { title: "Status" },
                ]}
              >
                {connections.map((c, index) => (
                  <IndexTable.Row id={c.id} key={c.id} position={index}>
                    <IndexTable.Cell>
                      <Text as="span" fontWeight="semibold">
                        {c.name}
                      </Text>{" "}
                      <Text as="span" tone="subdued">
                        ({c.kind})
                      </Text>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      {c.role === "source" ? "Stock source" : "Sales channel"}
                    </IndexTable.Cell>
                    <IndexTable.Cell>{c.accountRef}</IndexTable.Cell>
                    <IndexTable.Cell>
                      <Badge tone={statusTone[c.status as keyof typeof statusTone]}>
                        {c.statusReason ? `${c.status}: ${c.statusReason}` : c.status}
                      </Badge>
                    </IndexTable.Cell>
                  </IndexTable.Row>
                ))}
              </IndexTable>
            )}
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
