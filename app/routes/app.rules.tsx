/**
 * `/app/rules`: the Buffer rules page of the embedded admin (what each channel may show of the
 * available stock): the shop's rules, each editable in place and deletable with a confirmation
 * (and an undo), a form to add one, and before any of them is saved a preview of the listings,
 * SKUs and channels it changes. `?edit=<rule id>` opens a rule for editing (the item page's
 * "why this number" links here).
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import {
  Form,
  useActionData,
  useFetcher,
  useLoaderData,
  useNavigation,
  useSearchParams,
  useSubmit,
  type ShouldRevalidateFunction,
} from "@remix-run/react";
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
  List,
  Modal,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import {
  FormErrorBanner,
  fieldError,
  useSuccessToast,
  type ActionResult,
} from "../components/action-feedback";
import { BUFFER_KIND_TEXT, describeRule } from "../components/format";
import { NotFoundPage } from "../components/not-found";
import { RuleChannelSelect, RulePreviewSummary, useRulePreview } from "../components/rule-preview";
import {
  changeBufferRule,
  listBufferRules,
  ZRuleAction,
  type RulePreview,
} from "../services/admin/buffer-rules.server";
import { parseForm } from "../services/admin/forms.server";
import { importBufferRules, type RulesImportResult } from "../services/admin/rules-import.server";
import { BUFFER_KINDS } from "../services/admin/vocabulary";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return listBufferRules(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = await request.formData();
  if (form.get("intent") === "import") {
    const csv = form.get("csv");
    if (typeof csv !== "string" || csv.length > 1_000_000)
      return data(
        {
          ok: false as const,
          intent: "import" as const,
          status: 422 as const,
          rowErrors: [{ line: 1, message: "Paste a sheet of at most 1 MB" }],
        },
        { status: 422 },
      );
    const imported = await importBufferRules(session.shop, csv);
    return data(imported, { status: imported.ok ? 200 : imported.status });
  }
  const parsed = parseForm(ZRuleAction, form);
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await changeBufferRule({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

/** A preview writes nothing: the list is not reloaded for it. */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) => (formData?.get("step") === "preview" ? false : defaultShouldRevalidate);

export function ErrorBoundary() {
  return <NotFoundPage what="rule" back={{ content: "Buffer rules", url: "/app/rules" }} />;
}

const SCOPE_LABEL = ["Shop default", "Channel", "SKU", "Channel × SKU"];

type Answer =
  | { ok: true; intent: "preview"; preview: RulePreview }
  | {
      ok: true;
      intent: string;
      message: string;
      deleted?: { connectionId: string | null; sku: string | null; kind: string; value: number };
    }
  | Exclude<ActionResult, { ok: true }>;

type Rule = ReturnType<typeof useLoaderData<typeof loader>>["rules"][number];

function channelText(rule: Rule): string {
  return rule.connectionName ?? "All channels (source store included)";
}

type Connection = ReturnType<typeof useLoaderData<typeof loader>>["connections"][number];

const KIND_OPTIONS = BUFFER_KINDS.map((k) => ({
  label: BUFFER_KIND_TEXT[k]?.label ?? k,
  value: k,
}));

/**
 * The rule edited in its row (its channel, kind and value; the SKU stays): preview as you
 * change it, Save or Cancel.
 */
function RuleEditor(props: {
  rule: Rule;
  connections: Connection[];
  onDone: () => void;
  result?: Answer;
}) {
  const { rule } = props;
  const initial = {
    connectionId: rule.connectionId ?? "all",
    kind: rule.kind as string,
    value: String(rule.value),
  };
  const [connectionId, setConnectionId] = useState(initial.connectionId);
  const [kind, setKind] = useState(initial.kind);
  const [value, setValue] = useState(initial.value);
  const navigation = useNavigation();
  const saving =
    navigation.state === "submitting" &&
    navigation.formData?.get("intent") === "update" &&
    navigation.formData.get("ruleId") === rule.id;
  const changed =
    value !== initial.value || kind !== initial.kind || connectionId !== initial.connectionId;
  const preview = useRulePreview(
    changed && /^\d+$/.test(value)
      ? { intent: "update", ruleId: rule.id, connectionId, kind, value }
      : null,
  );
  const failure =
    props.result && !props.result.ok && props.result.intent === "update"
      ? props.result
      : preview.failure;
  const kindText = BUFFER_KIND_TEXT[kind];
  return (
    <Form method="post" data-testid="rule-editor">
      <input type="hidden" name="intent" value="update" />
      <input type="hidden" name="ruleId" value={rule.id} />
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">
          Edit {channelText(rule)} · {rule.sku ?? "all SKUs"} ·{" "}
          {describeRule(rule.kind, rule.value)}
        </Text>
        <FormLayout>
          <FormLayout.Group condensed>
            <RuleChannelSelect
              name="connectionId"
              connections={props.connections}
              value={connectionId}
              onChange={setConnectionId}
              error={fieldError(failure, "update", "connectionId")}
            />
            <Select
              label="Rule"
              name="kind"
              options={KIND_OPTIONS}
              value={kind}
              onChange={setKind}
              error={fieldError(failure, "update", "kind")}
            />
            <TextField
              label={kindText?.value ?? "Value"}
              name="value"
              type="number"
              value={value}
              onChange={setValue}
              autoComplete="off"
              autoFocus
              error={fieldError(failure, "update", "value")}
            />
          </FormLayout.Group>
        </FormLayout>
        <Text as="p" variant="bodySm" tone="subdued">
          SKU: {rule.sku ?? "all SKUs"} (to change it, add a rule for the other SKU)
        </Text>
        {changed && <RulePreviewSummary preview={preview.preview} loading={preview.loading} />}
        <InlineStack gap="200">
          <Button submit variant="primary" size="slim" loading={saving} disabled={!changed}>
            Save
          </Button>
          <Button size="slim" onClick={props.onDone}>
            Cancel
          </Button>
        </InlineStack>
      </BlockStack>
    </Form>
  );
}

/** Delete with a confirmation that says what it changes; the page then offers "Undo". */
function DeleteRuleButton(props: { rule: Rule }) {
  const [open, setOpen] = useState(false);
  const submit = useSubmit();
  const preview = useRulePreview(open ? { intent: "delete", ruleId: props.rule.id } : null);
  const description = describeRule(props.rule.kind, props.rule.value);
  return (
    <>
      <Button
        variant="plain"
        tone="critical"
        accessibilityLabel={`Delete rule ${description}`}
        onClick={() => setOpen(true)}
      >
        Delete
      </Button>
      <Modal
        open={open}
        onClose={() => setOpen(false)}
        title={`Delete “${description}”?`}
        primaryAction={{
          content: "Delete rule",
          destructive: true,
          onAction: () => {
            setOpen(false);
            submit({ intent: "delete", ruleId: props.rule.id }, { method: "post" });
          },
        }}
        secondaryActions={[{ content: "Cancel", onAction: () => setOpen(false) }]}
      >
        <Modal.Section>
          <BlockStack gap="200">
            <Text as="p">
              {channelText(props.rule)} · {props.rule.sku ?? "all SKUs"}. You can undo this right
              after.
            </Text>
            <RulePreviewSummary preview={preview.preview} loading={preview.loading} />
          </BlockStack>
        </Modal.Section>
      </Modal>
    </>
  );
}

export default function BufferRules() {
  const { rules, connections } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>() as Answer | undefined;
  const result = answer && "preview" in answer ? undefined : (answer as ActionResult | undefined);
  useSuccessToast(result);
  const submit = useSubmit();
  const navigation = useNavigation();
  const [searchParams, setSearchParams] = useSearchParams();
  const editing = searchParams.get("edit");
  const setEditing = (id: string | null) => {
    const next = new URLSearchParams(searchParams);
    if (id) next.set("edit", id);
    else next.delete("edit");
    setSearchParams(next, { replace: true, preventScrollReset: true });
  };
  const creating =
    navigation.state === "submitting" && navigation.formData?.get("intent") === "create";

  const [connectionId, setConnectionId] = useState("all");
  const [sku, setSku] = useState("");
  const [kind, setKind] = useState<string>("reserve_units");
  const [value, setValue] = useState("");
  const kindText = BUFFER_KIND_TEXT[kind];
  const [undo, setUndo] = useState<NonNullable<
    Extract<Answer, { message: string }>["deleted"]
  > | null>(null);
  useEffect(() => {
    if (!answer?.ok || !("message" in answer)) return;
    if (answer.intent === "create") {
      setSku("");
      setValue("");
    }
    if (answer.intent === "update") setEditing(null);
    setUndo(answer.intent === "delete" && answer.deleted ? answer.deleted : null);
    // setEditing changes identity with the URL; only a new answer matters here.
  }, [answer]);
  const createPreview = useRulePreview(
    /^\d+$/.test(value) ? { intent: "create", connectionId, sku, kind, value } : null,
  );
  const editedMissing = editing !== null && !rules.some((r) => r.id === editing);

  return (
    <Page title="Buffer rules" subtitle="What each channel may show of the available stock">
      <TitleBar title="Buffer rules" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="300">
            {undo && (
              <Banner
                tone="info"
                title={`Rule deleted: ${describeRule(undo.kind, undo.value)}`}
                action={{
                  content: "Undo",
                  onAction: () => {
                    setUndo(null);
                    submit(
                      {
                        intent: "create",
                        restore: "yes",
                        connectionId: undo.connectionId ?? "all",
                        sku: undo.sku ?? "",
                        kind: undo.kind,
                        value: String(undo.value),
                      },
                      { method: "post" },
                    );
                  },
                }}
                onDismiss={() => setUndo(null)}
              >
                <p>
                  {undo.connectionId
                    ? (connections.find((c) => c.id === undo.connectionId)?.name ?? "A channel")
                    : "All channels"}{" "}
                  · {undo.sku ?? "all SKUs"}. Every listing it covered has been republished.
                </p>
              </Banner>
            )}
            {editedMissing && (
              <Banner
                tone="warning"
                title="That rule no longer exists"
                onDismiss={() => setEditing(null)}
              >
                <p>It may have been deleted in another tab. The list below is current.</p>
              </Banner>
            )}
            <FormErrorBanner result={result} intent="delete" />
            <FormErrorBanner result={result} intent="update" />
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
                {rules.flatMap((rule, index) => [
                  <IndexTable.Row id={rule.id} key={rule.id} position={index}>
                    <IndexTable.Cell>
                      <Badge tone={rule.specificity > 0 ? "info" : undefined}>
                        {SCOPE_LABEL[rule.specificity] ?? ""}
                      </Badge>
                    </IndexTable.Cell>
                    <IndexTable.Cell>{channelText(rule)}</IndexTable.Cell>
                    <IndexTable.Cell>{rule.sku ?? "All SKUs"}</IndexTable.Cell>
                    <IndexTable.Cell>
                      <span data-rule={`${rule.kind}:${rule.value}`}>
                        {describeRule(rule.kind, rule.value)}
                      </span>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <InlineStack gap="300" wrap={false}>
                        {editing !== rule.id && (
                          <Button
                            variant="plain"
                            onClick={() => setEditing(rule.id)}
                            accessibilityLabel={`Edit rule ${describeRule(rule.kind, rule.value)}`}
                          >
                            Edit
                          </Button>
                        )}
                        <DeleteRuleButton rule={rule} />
                      </InlineStack>
                    </IndexTable.Cell>
                  </IndexTable.Row>,
                  // The rule being edited gets the table's full width under its row.
                  ...(editing === rule.id
                    ? [
                        <IndexTable.Row
                          id={`${rule.id}-edit`}
                          key={`${rule.id}-edit`}
                          position={index}
                        >
                          <IndexTable.Cell colSpan={5}>
                            {/* Table cells do not wrap; the editor and its preview do. */}
                            <div
                              style={{
                                whiteSpace: "normal",
                                // On a phone the table scrolls sideways; the editor stays on screen.
                                maxWidth: "min(640px, calc(100vw - 40px))",
                              }}
                            >
                              <RuleEditor
                                key={rule.id}
                                rule={rule}
                                connections={connections}
                                result={answer}
                                onDone={() => setEditing(null)}
                              />
                            </div>
                          </IndexTable.Cell>
                        </IndexTable.Row>,
                      ]
                    : []),
                ])}
              </IndexTable>
            </Card>
          </BlockStack>
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
                    <RuleChannelSelect
                      name="connectionId"
                      connections={connections}
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
                      options={KIND_OPTIONS}
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
                    {value !== "" && (
                      <RulePreviewSummary
                        preview={createPreview.preview}
                        loading={createPreview.loading}
                      />
                    )}
                    <Button submit variant="primary" loading={creating}>
                      Add rule
                    </Button>
                  </FormLayout>
                </BlockStack>
              </Form>
            </Card>
            <ImportRulesCard />
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
                <Text as="p" tone="subdued">
                  Buffer rules change what channels are shown. Safety stock (on each item’s page) is
                  different: it keeps units of on hand back from every channel, and lowers available
                  to sell itself.
                </Text>
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

/**
 * Bulk edit: a sheet of rules pasted from a spreadsheet. Checked whole before anything is set;
 * every bad line is listed and nothing changes until the sheet is fixed.
 */
function ImportRulesCard() {
  const fetcher = useFetcher<RulesImportResult>();
  const [csv, setCsv] = useState("channel,sku,kind,value\n");
  const answer = fetcher.data;
  useEffect(() => {
    if (answer?.ok) {
      shopify.toast.show(answer.message);
      setCsv("channel,sku,kind,value\n");
    }
  }, [answer]);
  return (
    <Card>
      <fetcher.Form method="post" data-testid="rules-import">
        <input type="hidden" name="intent" value="import" />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Set many rules at once
          </Text>
          <Text as="p" tone="subdued">
            Paste a sheet with the columns channel, sku, kind, value — channel a channel’s name or
            “all”, sku empty for every SKU, kind one of reserve_units, percent_of_ats, max_shown,
            zero_at_or_below. A rule of the same channel, SKU and kind takes the new value. Nothing
            is set until every line is right.
          </Text>
          {answer && !answer.ok && (
            <Banner tone="critical" title="Nothing was set: fix these lines">
              <List>
                {answer.rowErrors.slice(0, 50).map((e) => (
                  <List.Item key={`${e.line}-${e.message}`}>{e.message}</List.Item>
                ))}
              </List>
            </Banner>
          )}
          <TextField
            label="Rules sheet (CSV)"
            name="csv"
            value={csv}
            onChange={setCsv}
            multiline={6}
            autoComplete="off"
            monospaced
          />
          <Button submit loading={fetcher.state === "submitting"}>
            Set rules from sheet
          </Button>
        </BlockStack>
      </fetcher.Form>
    </Card>
  );
}
