/**
 * `/app/channels`: the Channels page of the embedded admin: the shop's connections with status
 * and reason, Pause / Resume / Disconnect (confirmed), and every way to connect a channel — a
 * one-time link code for a store that installed StockGuard (and, on such a store, the form to
 * enter one), an Admin API token for a custom-app store, Amazon and eBay consent pages, Walmart
 * keys.
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
  List,
  Page,
  Text,
  TextField,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import { FormErrorBanner, fieldError, useSuccessToast } from "../components/action-feedback";
import { ConfirmButton } from "../components/confirm";
import { formatUtc } from "../components/format";
import { ConnectionStatusBadge } from "../components/status-badge";
import {
  getChannelsPage,
  performChannelsAction,
  ZChannelsAction,
  type ChannelView,
  type MarketplaceOption,
} from "../services/admin/channels.server";
import { parseForm } from "../services/admin/forms.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getChannelsPage(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZChannelsAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await performChannelsAction({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

function useSubmitting(intent: string, extra?: [string, string]): boolean {
  const navigation = useNavigation();
  return (
    navigation.state === "submitting" &&
    navigation.formData?.get("intent") === intent &&
    (!extra || navigation.formData?.get(extra[0]) === extra[1])
  );
}

function ChannelActions({ channel }: { channel: ChannelView }) {
  const resuming = useSubmitting("resume", ["connectionId", channel.id]);
  if (channel.role === "source") {
    return (
      <Text as="span" tone="subdued" variant="bodySm">
        Pause all sync on Overview
      </Text>
    );
  }
  if (channel.status === "disconnected") {
    return (
      <Text as="span" tone="subdued" variant="bodySm">
        Connect it again below
      </Text>
    );
  }
  return (
    <InlineStack gap="200" wrap={false}>
      {channel.status === "paused" ? (
        <Form method="post">
          <input type="hidden" name="intent" value="resume" />
          <input type="hidden" name="connectionId" value={channel.id} />
          <Button
            submit
            size="slim"
            loading={resuming}
            accessibilityLabel={`Resume ${channel.name}`}
          >
            Resume
          </Button>
        </Form>
      ) : (
        <ConfirmButton
          label="Pause"
          accessibilityLabel={`Pause ${channel.name}`}
          size="slim"
          title={`Pause ${channel.name}?`}
          body={`StockGuard stops writing quantities to ${channel.name}. Its orders are still recorded and counted everywhere else; resuming catches it up. While paused it keeps showing what it shows now and can oversell.`}
          confirmLabel="Pause channel"
          fields={{ intent: "pause", connectionId: channel.id }}
        />
      )}
      <ConfirmButton
        label="Disconnect"
        accessibilityLabel={`Disconnect ${channel.name}`}
        size="slim"
        tone="critical"
        variant="plain"
        title={`Disconnect ${channel.name}?`}
        body={`StockGuard stops writing to ${channel.name} and deletes its credentials. Its order history stays in the ledger. To sync it again you connect it again.`}
        confirmLabel="Disconnect"
        destructive
        fields={{ intent: "disconnect", connectionId: channel.id }}
      />
    </InlineStack>
  );
}

function ChannelsTable({ channels }: { channels: ChannelView[] }) {
  return (
    <IndexTable
      resourceName={{ singular: "channel", plural: "channels" }}
      itemCount={channels.length}
      selectable={false}
      headings={[
        { title: "Channel" },
        { title: "Status" },
        { title: "Listings", alignment: "end" },
        { title: "Last write" },
        { title: "Actions" },
      ]}
    >
      {channels.map((c, index) => (
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
                {`${c.kind} · ${c.account} · ${c.access}`}
              </Text>
            </BlockStack>
          </IndexTable.Cell>
          <IndexTable.Cell>
            <BlockStack gap="050" inlineAlign="start">
              <span data-channel-status={c.status}>
                <ConnectionStatusBadge status={c.status} />
              </span>
              {c.statusReason && (
                <Text as="span" variant="bodySm" tone="subdued">
                  {c.statusReason}
                </Text>
              )}
            </BlockStack>
          </IndexTable.Cell>
          <IndexTable.Cell>
            <Text as="span" alignment="end" numeric>
              {c.listings}
            </Text>
          </IndexTable.Cell>
          <IndexTable.Cell>{c.lastPushAt ? formatUtc(c.lastPushAt) : "never"}</IndexTable.Cell>
          <IndexTable.Cell>
            <ChannelActions channel={c} />
          </IndexTable.Cell>
        </IndexTable.Row>
      ))}
    </IndexTable>
  );
}

type Result = ReturnType<typeof useActionData<typeof action>>;

function LinkCodeCard({ result }: { result: Result }) {
  const creating = useSubmitting("create-link-code");
  const code = result?.ok && result.intent === "create-link-code" ? result : null;
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack gap="200" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Link a store that installed StockGuard
          </Text>
          <Badge tone="success">Recommended</Badge>
        </InlineStack>
        <List type="number">
          <List.Item>Install StockGuard on the other store.</List.Item>
          <List.Item>Create a link code here.</List.Item>
          <List.Item>
            In that store&apos;s StockGuard admin, open Channels and enter the code under
            &ldquo;Enter a link code&rdquo;.
          </List.Item>
        </List>
        <Text as="p" tone="subdued">
          That store then sells this store&apos;s stock: its orders count here, and StockGuard
          writes its quantities with its own install. A code works once and expires after 15
          minutes.
        </Text>
        <FormErrorBanner result={result} intent="create-link-code" />
        {code?.code && (
          <div data-testid="link-code">
            <Box padding="400" background="bg-surface-secondary" borderRadius="200">
              <BlockStack gap="100" inlineAlign="center">
                <Text as="p" variant="heading2xl" fontWeight="bold">
                  <span data-code style={{ fontFamily: "monospace", letterSpacing: "0.1em" }}>
                    {code.code}
                  </span>
                </Text>
                <Text as="p" tone="subdued">
                  Works once · expires {code.expiresAt ? formatUtc(code.expiresAt) : "soon"}
                </Text>
              </BlockStack>
            </Box>
          </div>
        )}
        <Form method="post">
          <input type="hidden" name="intent" value="create-link-code" />
          <Button submit loading={creating}>
            {code?.code ? "Create another code" : "Create link code"}
          </Button>
        </Form>
      </BlockStack>
    </Card>
  );
}

function EnterCodeCard({ result }: { result: Result }) {
  const [code, setCode] = useState("");
  const linking = useSubmitting("enter-link-code");
  return (
    <Card>
      <Form method="post" data-testid="enter-code-form">
        <input type="hidden" name="intent" value="enter-link-code" />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Enter a link code
          </Text>
          <Text as="p" tone="subdued">
            Does this store sell another store&apos;s stock? Enter the code that store&apos;s
            StockGuard admin shows (Channels → Create link code). This store then becomes its sales
            channel: its own stock is no longer a pool of its own, and its channels are managed
            there.
          </Text>
          <FormErrorBanner result={result} intent="enter-link-code" />
          <InlineStack gap="200" blockAlign="end">
            <Box minWidth="12rem">
              <TextField
                label="Link code"
                name="code"
                value={code}
                onChange={setCode}
                placeholder="ABCD-2345"
                autoComplete="off"
                error={fieldError(result, "enter-link-code", "code")}
              />
            </Box>
            <Button submit loading={linking}>
              Link this store
            </Button>
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}

function TokenCard({ result }: { result: Result }) {
  const [store, setStore] = useState("");
  const [token, setToken] = useState("");
  const [secret, setSecret] = useState("");
  const connecting = useSubmitting("connect-token");
  useEffect(() => {
    if (result?.ok && result.intent === "connect-token") {
      setStore("");
      setToken("");
      setSecret("");
    }
  }, [result]);
  const error = (field: string) => fieldError(result, "connect-token", field);
  return (
    <Card>
      <Form method="post" data-testid="token-form">
        <input type="hidden" name="intent" value="connect-token" />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Connect a store with an Admin API token
          </Text>
          <Text as="p" tone="subdued">
            For a store that will not install StockGuard: create a custom app there (Settings → Apps
            → Develop apps) with the scopes read_orders, read_products, read_locations and
            write_inventory, install it, and paste its Admin API access token and API secret key.
            StockGuard creates the webhook subscriptions it needs on that store itself.
          </Text>
          <FormErrorBanner result={result} intent="connect-token" />
          <FormLayout>
            <TextField
              label="Store domain"
              name="store"
              value={store}
              onChange={setStore}
              placeholder="other-store.myshopify.com"
              autoComplete="off"
              error={error("store")}
            />
            <TextField
              label="Admin API access token"
              name="token"
              type="password"
              value={token}
              onChange={setToken}
              autoComplete="off"
              error={error("token")}
            />
            <TextField
              label="Webhook signing secret"
              name="webhookSecret"
              type="password"
              value={secret}
              onChange={setSecret}
              autoComplete="off"
              helpText="The custom app's API secret key: Shopify signs that store's webhooks with it."
              error={error("webhookSecret")}
            />
            <Button submit variant="primary" loading={connecting}>
              Connect store
            </Button>
          </FormLayout>
        </BlockStack>
      </Form>
    </Card>
  );
}

function MarketplacesCard(props: { marketplaces: MarketplaceOption[]; result: Result }) {
  const { result } = props;
  const authorizing = useNavigation();
  const redirecting = (kind: string) =>
    authorizing.state === "submitting" &&
    authorizing.formData?.get("intent") === "authorize" &&
    authorizing.formData?.get("kind") === kind;
  const [keys, setKeys] = useState<Record<string, string>>({});
  const savingKeys = useSubmitting("connect-keys");
  useEffect(() => {
    if (result?.ok && result.intent === "connect-keys") setKeys({});
  }, [result]);
  const redirects = props.marketplaces.filter((m) => m.flow === "redirect");
  const keyed = props.marketplaces.filter((m) => m.flow === "keys");
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Connect a marketplace
        </Text>
        <FormErrorBanner result={result} intent="authorize" />
        {redirects.length > 0 && (
          <BlockStack gap="200">
            <Text as="p" tone="subdued">
              You approve StockGuard on the marketplace&apos;s own page, then come back here.
            </Text>
            <InlineStack gap="200">
              {redirects.map((m) => (
                <Form method="post" key={m.kind}>
                  <input type="hidden" name="intent" value="authorize" />
                  <input type="hidden" name="kind" value={m.kind} />
                  <Button submit loading={redirecting(m.kind)}>
                    {`Connect ${m.label}`}
                  </Button>
                </Form>
              ))}
            </InlineStack>
          </BlockStack>
        )}
        {keyed.map((m) => (
          <Form method="post" key={m.kind} data-testid={`${m.kind}-form`}>
            <input type="hidden" name="intent" value="connect-keys" />
            <input type="hidden" name="kind" value={m.kind} />
            <BlockStack gap="200">
              <Text as="h3" variant="headingSm">
                {`${m.label} API keys`}
              </Text>
              <Text as="p" tone="subdued">
                {`From ${m.label}'s developer portal (Seller Center → Settings → API Key Management).`}
              </Text>
              <FormErrorBanner result={result} intent="connect-keys" />
              <FormLayout>
                {m.fields.map((f) => (
                  <TextField
                    key={f.name}
                    label={f.label}
                    name={f.name}
                    type={f.secret ? "password" : "text"}
                    value={keys[f.name] ?? ""}
                    onChange={(value) => setKeys((k) => ({ ...k, [f.name]: value }))}
                    autoComplete="off"
                    error={fieldError(result, "connect-keys", f.name)}
                  />
                ))}
                <Button submit loading={savingKeys}>
                  {`Connect ${m.label}`}
                </Button>
              </FormLayout>
            </BlockStack>
          </Form>
        ))}
        {props.marketplaces
          .filter((m) => m.flow === null)
          .map((m) => (
            <Text as="p" tone="subdued" key={m.kind}>
              {`${m.label} is not available in this version.`}
            </Text>
          ))}
      </BlockStack>
    </Card>
  );
}

export default function Channels() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);

  // The consent page opens in the top window (the admin around the app's frame).
  useEffect(() => {
    if (result?.ok && result.consentUrl) window.open(result.consentUrl, "_top");
  }, [result]);

  const rowActionFailed =
    result && !result.ok && ["pause", "resume", "disconnect"].includes(result.intent ?? "");

  return (
    <Page title="Channels" subtitle="Where this store's stock is sold">
      <TitleBar title="Channels" />
      <Layout>
        {page.linkedTo && (
          <Layout.Section>
            <Banner tone="info" title={`This store sells ${page.linkedTo}'s stock`}>
              <p>
                It is linked as a sales channel of {page.linkedTo}. Pause, resume or disconnect it
                in {page.linkedTo}&apos;s StockGuard admin.
              </p>
            </Banner>
          </Layout.Section>
        )}
        <Layout.Section>
          <BlockStack gap="300">
            {rowActionFailed && (
              <>
                <FormErrorBanner result={result} intent="pause" />
                <FormErrorBanner result={result} intent="resume" />
                <FormErrorBanner result={result} intent="disconnect" />
              </>
            )}
            <Card padding="0">
              <ChannelsTable channels={page.channels} />
            </Card>
          </BlockStack>
        </Layout.Section>

        {!page.linkedTo && (
          <>
            <Layout.Section>
              <BlockStack gap="200">
                <Text as="h2" variant="headingLg">
                  Connect another Shopify store
                </Text>
              </BlockStack>
            </Layout.Section>
            <Layout.Section variant="oneHalf">
              <LinkCodeCard result={result} />
            </Layout.Section>
            <Layout.Section variant="oneHalf">
              <TokenCard result={result} />
            </Layout.Section>
            <Layout.Section>
              <MarketplacesCard marketplaces={page.marketplaces} result={result} />
            </Layout.Section>
          </>
        )}
        {page.canEnterLinkCode && (
          <Layout.Section>
            <EnterCodeCard result={result} />
          </Layout.Section>
        )}
      </Layout>
    </Page>
  );
}
