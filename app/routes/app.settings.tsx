/**
 * `/app/settings`: the sync switch and "Release holds before uninstalling" (explained, confirmed,
 * with its result).
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  InlineStack,
  Layout,
  List,
  Page,
  Text,
} from "@shopify/polaris";
import { FormErrorBanner, useSuccessToast } from "../components/action-feedback";
import { ConfirmButton } from "../components/confirm";
import { formatUtc } from "../components/format";
import { parseForm } from "../services/admin/forms.server";
import {
  getSettings,
  performSettingsAction,
  ZSettingsAction,
} from "../services/admin/settings.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getSettings(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZSettingsAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await performSettingsAction({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

export default function Settings() {
  const settings = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const navigation = useNavigation();
  const starting =
    navigation.state === "submitting" && navigation.formData?.get("intent") === "start-sync";
  const { holds } = settings;
  const released =
    settings.holdsReleasedAt !== null &&
    (holds.observedAt === null || settings.holdsReleasedAt >= holds.observedAt);

  if (settings.linkedTo) {
    return (
      <Page title="Settings">
        <TitleBar title="Settings" />
        <Banner tone="info" title={`This store sells ${settings.linkedTo}'s stock`}>
          <p>Its sync and holds are managed in {settings.linkedTo}&apos;s StockGuard admin.</p>
        </Banner>
      </Page>
    );
  }

  return (
    <Page title="Settings">
      <TitleBar title="Settings" />
      <Layout>
        <Layout.AnnotatedSection
          title="Sync"
          description="While sync is paused nothing is written to any channel; orders and stock changes are still recorded, and starting sync catches every channel up."
        >
          <Card>
            <BlockStack gap="300">
              <InlineStack gap="200" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  Sync
                </Text>
                <span
                  data-testid="settings-sync-state"
                  data-sync={settings.syncEnabled ? "on" : "paused"}
                >
                  <Badge tone={settings.syncEnabled ? "success" : "attention"}>
                    {settings.syncEnabled ? "On" : "Paused"}
                  </Badge>
                </span>
              </InlineStack>
              <FormErrorBanner result={result} intent="start-sync" />
              <FormErrorBanner result={result} intent="pause-sync" />
              {settings.syncEnabled ? (
                <InlineStack>
                  <ConfirmButton
                    label="Pause sync"
                    title="Pause sync?"
                    body="StockGuard stops writing to every channel. Orders are still recorded; until you start sync again, channels keep showing what they show now and can oversell."
                    confirmLabel="Pause sync"
                    destructive
                    fields={{ intent: "pause-sync" }}
                  />
                </InlineStack>
              ) : (
                <Form method="post">
                  <input type="hidden" name="intent" value="start-sync" />
                  <Button submit variant="primary" loading={starting}>
                    Start sync
                  </Button>
                </Form>
              )}
            </BlockStack>
          </Card>
        </Layout.AnnotatedSection>

        <Layout.AnnotatedSection
          title="Before uninstalling"
          description="Shopify revokes StockGuard's access the moment the app is uninstalled, so StockGuard cannot clean up afterwards."
        >
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                Release holds
              </Text>
              <Text as="p">
                To show each channel the right quantity, StockGuard moves units on this store out of
                &ldquo;available&rdquo; into states it manages:
              </Text>
              <List>
                <List.Item>
                  <Text as="span" fontWeight="semibold">
                    Reserved
                  </Text>
                  : units sold on other channels and not shipped yet.
                </List.Item>
                <List.Item>
                  <Text as="span" fontWeight="semibold">
                    Safety stock
                  </Text>
                  : units your buffer rules keep back.
                </List.Item>
              </List>
              <Text as="p">
                Releasing moves all of them back to available and pauses sync. Units in quality
                control or marked damaged stay where they are: they describe the goods, not
                StockGuard&apos;s choices. Do this right before you uninstall StockGuard; starting
                sync again takes the holds again.
              </Text>
              {released ? (
                <Text as="p" tone="subdued">
                  {`Holds were released on ${formatUtc(settings.holdsReleasedAt!)}.`}
                </Text>
              ) : (
                <Text as="p" tone="subdued">
                  <span data-testid="holds-summary">
                    {holds.observedAt
                      ? `StockGuard holds ${holds.reserved} reserved and ${holds.safetyStock} safety-stock unit${holds.reserved + holds.safetyStock === 1 ? "" : "s"} on ${holds.levels} inventory level${holds.levels === 1 ? "" : "s"} (as last read ${formatUtc(holds.observedAt)}).`
                      : "StockGuard has not read this store's levels yet."}
                  </span>
                </Text>
              )}
              <FormErrorBanner result={result} intent="release-holds" />
              {result?.ok && "released" in result && result.released && (
                <Banner tone="success" title="Holds released">
                  <p data-testid="release-result">{result.message}</p>
                </Banner>
              )}
              <InlineStack>
                <ConfirmButton
                  label="Release holds"
                  title="Release every hold on this store?"
                  body={
                    <BlockStack gap="200">
                      <Text as="p">
                        Every unit StockGuard holds in reserved and safety stock goes back to
                        available, and sync pauses: no channel is written until you start sync
                        again.
                      </Text>
                      <Text as="p">
                        Your storefront then offers the full quantity again, while other channels
                        keep showing their last quantities: uninstall StockGuard soon after, or
                        start sync again.
                      </Text>
                    </BlockStack>
                  }
                  confirmLabel="Release holds and pause sync"
                  destructive
                  tone="critical"
                  fields={{ intent: "release-holds" }}
                />
              </InlineStack>
            </BlockStack>
          </Card>
        </Layout.AnnotatedSection>
      </Layout>
    </Page>
  );
}
