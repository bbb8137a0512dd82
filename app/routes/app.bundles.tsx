/**
 * `/app/bundles`: bundles and multipacks — listings that sell several items or several units of
 * one — with their components and what they publish, and the form that defines or edits one.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  IndexTable,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import { FormErrorBanner, fieldError, useSuccessToast } from "../components/action-feedback";
import { getBundlesPage, saveBundle, ZBundleForm } from "../services/admin/bundles.server";
import { parseForm } from "../services/admin/forms.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getBundlesPage(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZBundleForm, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await saveBundle({ shopDomain: session.shop, form: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

type Row = { sku: string; units: string };
const EMPTY_ROWS: Row[] = [
  { sku: "", units: "1" },
  { sku: "", units: "1" },
];

export default function Bundles() {
  const { channels, bundles } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const navigation = useNavigation();
  const saving = navigation.state === "submitting" && navigation.formData?.get("intent") === "save";

  const [connectionId, setConnectionId] = useState(channels[0]?.id ?? "");
  const [sku, setSku] = useState("");
  const [rows, setRows] = useState<Row[]>(EMPTY_ROWS);
  useEffect(() => {
    if (result?.ok) {
      setSku("");
      setRows(EMPTY_ROWS);
    }
  }, [result]);
  const setRow = (index: number, patch: Partial<Row>) =>
    setRows((current) => current.map((r, i) => (i === index ? { ...r, ...patch } : r)));

  return (
    <Page
      title="Bundles and multipacks"
      subtitle="Listings that sell several items or units at once"
    >
      <TitleBar title="Bundles" />
      <Layout>
        <Layout.Section>
          <Card padding="0">
            <IndexTable
              resourceName={{ singular: "bundle", plural: "bundles" }}
              itemCount={bundles.length}
              selectable={false}
              emptyState={
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    No bundles yet: every listing sells one unit of one item.
                  </Text>
                </Box>
              }
              headings={[
                { title: "Listing" },
                { title: "Components (units per set)" },
                { title: "Publishes", alignment: "end" },
              ]}
            >
              {bundles.map((b, index) => (
                <IndexTable.Row id={b.listingId} key={b.listingId} position={index}>
                  <IndexTable.Cell>
                    <BlockStack gap="050" inlineAlign="start">
                      <Text as="span" fontWeight="semibold">
                        {b.sku ?? "—"}
                      </Text>
                      <Text as="span" variant="bodySm" tone="subdued">
                        {b.title ? `${b.connectionName} · ${b.title}` : b.connectionName}
                      </Text>
                      <Button
                        size="micro"
                        variant="plain"
                        accessibilityLabel={`Edit ${b.sku ?? "bundle"}`}
                        onClick={() => {
                          setConnectionId(b.connectionId);
                          setSku(b.sku ?? "");
                          setRows(
                            b.components.map((c) => ({ sku: c.sku, units: String(c.quantity) })),
                          );
                        }}
                      >
                        Edit
                      </Button>
                    </BlockStack>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <BlockStack gap="100">
                      {b.components.map((c) => (
                        <BlockStack gap="0" key={c.sku}>
                          <Text as="span">
                            <span data-component={`${c.sku}x${c.quantity}`}>
                              {`${c.sku} × ${c.quantity}`}
                            </span>
                          </Text>
                          <Text as="span" variant="bodySm" tone="subdued">
                            {`${c.ats} available → ${c.sets} set${c.sets === 1 ? "" : "s"}`}
                          </Text>
                        </BlockStack>
                      ))}
                    </BlockStack>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <BlockStack gap="050" inlineAlign="end">
                      <InlineStack gap="100" wrap={false} blockAlign="center">
                        {b.pending && <Badge tone="attention">pending</Badge>}
                        <Text as="span" numeric fontWeight="semibold">
                          <span data-testid="bundle-published">{b.publishedQuantity}</span>
                        </Text>
                      </InlineStack>
                      <Text as="span" variant="bodySm" tone="subdued">
                        {`shows ${b.remoteQuantity ?? "—"}`}
                      </Text>
                    </BlockStack>
                  </IndexTable.Cell>
                </IndexTable.Row>
              ))}
            </IndexTable>
          </Card>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <Card>
            <Form method="post" data-testid="bundle-form">
              <input type="hidden" name="intent" value="save" />
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">
                  Define a bundle
                </Text>
                <Text as="p" tone="subdued">
                  Pick a listing by its channel and SKU and say what one unit of it contains. It
                  then shows complete sets only, and every sale takes its components.
                </Text>
                <FormErrorBanner result={result} intent="save" />
                {result?.ok && (
                  <Banner tone="success">
                    <p data-testid="bundle-saved">{result.message}</p>
                  </Banner>
                )}
                <FormLayout>
                  <Select
                    label="Channel"
                    name="connectionId"
                    options={
                      channels.length === 0
                        ? [{ label: "No sales channel connected", value: "" }]
                        : channels.map((c) => ({ label: c.name, value: c.id }))
                    }
                    value={connectionId}
                    onChange={setConnectionId}
                    error={fieldError(result, "save", "connectionId")}
                  />
                  <TextField
                    label="Listing SKU"
                    name="sku"
                    value={sku}
                    onChange={setSku}
                    autoComplete="off"
                    helpText="The SKU of the listing on that channel."
                    error={fieldError(result, "save", "sku")}
                  />
                  {rows.map((row, index) => (
                    <InlineStack key={index} gap="200" blockAlign="end" wrap={false}>
                      <Box width="60%">
                        <TextField
                          label={`Component ${index + 1} SKU`}
                          name={`components.${index}.sku`}
                          value={row.sku}
                          onChange={(value) => setRow(index, { sku: value })}
                          autoComplete="off"
                          error={fieldError(result, "save", `components.${index}.sku`)}
                        />
                      </Box>
                      <Box width="25%">
                        <TextField
                          label="Units"
                          name={`components.${index}.units`}
                          type="number"
                          min={1}
                          value={row.units}
                          onChange={(value) => setRow(index, { units: value })}
                          autoComplete="off"
                          error={fieldError(result, "save", `components.${index}.units`)}
                        />
                      </Box>
                      <Button
                        variant="plain"
                        tone="critical"
                        accessibilityLabel={`Remove component ${index + 1}`}
                        disabled={rows.length === 1}
                        onClick={() => setRows((current) => current.filter((_, i) => i !== index))}
                      >
                        Remove
                      </Button>
                    </InlineStack>
                  ))}
                  <InlineStack gap="200">
                    <Button
                      disabled={rows.length >= 50}
                      onClick={() => setRows((current) => [...current, { sku: "", units: "1" }])}
                    >
                      Add component
                    </Button>
                    <Button
                      submit
                      variant="primary"
                      loading={saving}
                      disabled={channels.length === 0}
                    >
                      Save bundle
                    </Button>
                  </InlineStack>
                </FormLayout>
              </BlockStack>
            </Form>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
