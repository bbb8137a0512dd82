/**
 * `/app/rules`: the Buffer rules page of the embedded admin (what each channel may show of the
 * available stock): the shop's rules, a form to add one, a button to delete one.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  IndexTable,
  Layout,
  List,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import { FormErrorBanner, fieldError, useSuccessToast } from "../components/action-feedback";
import { BUFFER_KIND_TEXT, describeRule } from "../components/format";
import {
  changeBufferRule,
  listBufferRules,
  ZRuleAction,
} from "../services/admin/buffer-rules.server";
import { parseForm } from "../services/admin/forms.server";
import { BUFFER_KINDS } from "../services/admin/vocabulary";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return listBufferRules(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZRuleAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await changeBufferRule({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

const SCOPE_LABEL = ["Shop default", "Channel", "SKU", "Channel × SKU"];

export default function BufferRules() {
  const { rules, connections } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const navigation = useNavigation();
  const creating =
    navigation.state === "submitting" && navigation.formData?.get("intent") === "create";
  const deleting =
    navigation.state === "submitting" && navigation.formData?.get("intent") === "delete"
      ? String(navigation.formData.get("ruleId"))
      : null;

  const [connectionId, setConnectionId] = useState("all");
  const [sku, setSku] = useState("");
  const [kind, setKind] = useState<string>("reserve_units");
  const [value, setValue] = useState("");
  const kindText = BUFFER_KIND_TEXT[kind];
  useEffect(() => {
    if (result?.ok) {
      setSku("");
      setValue("");
    }
  }, [result]);

  return (
    <Page title="Buffer rules" subtitle="What each channel may show of the available stock">
      <TitleBar title="Buffer rules" />
      <Layout>
        <Layout.Section>
          <Card padding="0">
            <IndexTable
              resourceName={{ singular: "rule", plural: "rules" }}
              itemCount={rules.length}
              selectable={false}
              emptyState={
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    No buffer rules: every channel shows the full available-to-sell quantity.
                  </Text>
                </Box>
              }
              headings={[
                { title: "Scope" },
                { title: "Channel" },
                { title: "SKU" },
                { title: "Rule" },
                { title: "" },
              ]}
            >
              {rules.map((rule, index) => (
                <IndexTable.Row id={rule.id} key={rule.id} position={index}>
                  <IndexTable.Cell>
                    <Badge tone={rule.specificity > 0 ? "info" : undefined}>
                      {SCOPE_LABEL[rule.specificity] ?? ""}
                    </Badge>
                  </IndexTable.Cell>
                  <IndexTable.Cell>{rule.connectionName ?? "All channels"}</IndexTable.Cell>
                  <IndexTable.Cell>{rule.sku ?? "All SKUs"}</IndexTable.Cell>
                  <IndexTable.Cell>
                    <span data-rule={`${rule.kind}:${rule.value}`}>
                      {describeRule(rule.kind, rule.value)}
                    </span>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <Form method="post">
                      <input type="hidden" name="intent" value="delete" />
                      <input type="hidden" name="ruleId" value={rule.id} />
                      <Button
                        submit
                        variant="plain"
                        tone="critical"
                        loading={deleting === rule.id}
                        accessibilityLabel={`Delete rule ${describeRule(rule.kind, rule.value)}`}
                      >
                        Delete
                      </Button>
                    </Form>
                  </IndexTable.Cell>
                </IndexTable.Row>
              ))}
            </IndexTable>
          </Card>
          <Box paddingBlockStart="300">
            <FormErrorBanner result={result} intent="delete" />
          </Box>
        </Layout.Section>

        <Layout.Section variant="oneThird">
          <BlockStack gap="400">
            <Card>
              <Form method="post" data-testid="rule-form">
                <input type="hidden" name="intent" value="create" />
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Add a rule
                  </Text>
                  <FormErrorBanner result={result} intent="create" />
                  <FormLayout>
                    <Select
                      label="Channel"
                      name="connectionId"
                      options={[
                        { label: "All channels", value: "all" },
                        ...connections.map((c) => ({
                          label: `${c.name}${c.role === "source" ? " (source store)" : ""}`,
                          value: c.id,
                        })),
                      ]}
                      value={connectionId}
                      onChange={setConnectionId}
                      error={fieldError(result, "create", "connectionId")}
                    />
                    <TextField
                      label="SKU"
                      name="sku"
                      value={sku}
                      onChange={setSku}
                      placeholder="All SKUs"
                      helpText="Leave empty for every SKU."
                      autoComplete="off"
                      error={fieldError(result, "create", "sku")}
                    />
                    <Select
                      label="Rule"
                      name="kind"
                      options={BUFFER_KINDS.map((k) => ({
                        label: BUFFER_KIND_TEXT[k]?.label ?? k,
                        value: k,
                      }))}
                      value={kind}
                      onChange={setKind}
                      helpText={kindText?.help}
                      error={fieldError(result, "create", "kind")}
                    />
                    <TextField
                      label={kindText?.value ?? "Value"}
                      name="value"
                      type="number"
                      value={value}
                      onChange={setValue}
                      autoComplete="off"
                      error={fieldError(result, "create", "value")}
                    />
                    <Button submit variant="primary" loading={creating}>
                      Add rule
                    </Button>
                  </FormLayout>
                </BlockStack>
              </Form>
            </Card>
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  How rules combine
                </Text>
                <Text as="p">
                  For each listing, every kind of rule is resolved on its own: the most specific
                  rule of that kind wins.
                </Text>
                <List type="number">
                  <List.Item>Channel × SKU</List.Item>
                  <List.Item>SKU (all channels)</List.Item>
                  <List.Item>Channel (all SKUs)</List.Item>
                  <List.Item>Shop default (all channels, all SKUs)</List.Item>
                </List>
                <Text as="p" tone="subdued">
                  The winners then apply together: a shop-wide “hold back 2” and a SKU’s “show at
                  most 10” both count. The channel is shown the smallest result, never less than 0.
                </Text>
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
