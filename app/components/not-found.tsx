/**
 * The admin's in-app error pages: a styled 404 ("this stock item does not exist in your shop")
 * and a generic "something went wrong", each with a way back, rendered inside the app's frame
 * (Polaris, navigation). Any other thrown response (Shopify's re-authentication pages) is
 * re-thrown to the layout's boundary, which knows how to answer it.
 */
import { isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, InlineStack, Page, Text } from "@shopify/polaris";

type Back = { content: string; url: string };

export function NotFoundPage(props: { what: string; back: Back }) {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return <ErrorCard status={404} what={props.what} back={props.back} />;
  }
  if (isRouteErrorResponse(error)) throw error;
  return <ErrorCard status={500} what={props.what} back={props.back} />;
}

export function ErrorCard(props: { status: number; what: string; back: Back }) {
  const missing = props.status === 404;
  return (
    <Page title={missing ? "Not found" : "Something went wrong"} backAction={props.back}>
      <Card>
        <BlockStack gap="300">
          <span data-testid="error-page" data-status={props.status}>
            <Text as="h2" variant="headingLg">
              {missing
                ? `This ${props.what} does not exist in your shop`
                : "This page could not be shown"}
            </Text>
          </span>
          {missing ? (
            <Text as="p" tone="subdued">
              It may have been removed, or the link belongs to another shop. Nothing was changed.
            </Text>
          ) : (
            <Banner tone="critical">
              <p>
                StockGuard hit an unexpected error. Nothing was changed by this page; try again in a
                moment. Your stock keeps syncing in the background.
              </p>
            </Banner>
          )}
          <InlineStack gap="200">
            <Button url={props.back.url} variant="primary">
              {`Back to ${props.back.content}`}
            </Button>
            <Button url="/app">Overview</Button>
          </InlineStack>
        </BlockStack>
      </Card>
    </Page>
  );
}
