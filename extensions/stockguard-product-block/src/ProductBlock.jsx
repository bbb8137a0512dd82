/**
 * StockGuard's block on the product details page (target admin.product-details.block.render):
 * fetches /extensions/product-stock for the selected product (the admin adds the ID token to a
 * fetch to the app's URL) and lays out blockView's lines with Polaris web components.
 */
/* global shopify, document */
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { blockView } from "./view";

export default async () => {
  render(<ProductBlock />, document.body);
};

function ProductBlock() {
  const productId = shopify.data.selected[0]?.id;
  const [state, setState] = useState({ loading: true, view: null, error: null });

  useEffect(() => {
    if (!productId) return;
    fetch(`/extensions/product-stock?product=${encodeURIComponent(productId)}`)
      .then(async (response) => {
        const body = await response.json();
        if (!response.ok) throw new Error(body.message ?? `StockGuard answered ${response.status}`);
        setState({ loading: false, view: blockView(body, Date.now()), error: null });
      })
      .catch((error) => setState({ loading: false, view: null, error: error.message }));
  }, [productId]);

  if (state.loading) {
    return (
      <s-admin-block heading="StockGuard">
        <s-text>Loading stock across channels…</s-text>
      </s-admin-block>
    );
  }
  if (state.error) {
    return (
      <s-admin-block heading="StockGuard">
        <s-banner tone="critical">{state.error}</s-banner>
      </s-admin-block>
    );
  }
  const view = state.view;
  if (view.state === "empty") {
    return (
      <s-admin-block heading="StockGuard">
        <s-text>{view.message}</s-text>
      </s-admin-block>
    );
  }
  return (
    <s-admin-block heading="StockGuard">
      <s-stack direction="block" gap="base">
        {view.variants.map((variant) => (
          <s-stack direction="block" gap="small-200" key={variant.heading}>
            <s-stack direction="inline" gap="small-200" alignItems="center">
              <s-text type="strong">{variant.heading}</s-text>
              <s-text>{variant.ats}</s-text>
              {variant.incidents && (
                <s-badge tone={variant.incidents.tone}>{variant.incidents.label}</s-badge>
              )}
              <s-link href={variant.link}>Open in StockGuard</s-link>
            </s-stack>
            {variant.channels.map((line) => (
              <s-stack direction="inline" gap="small-200" key={line.channel}>
                <s-text>
                  {line.channel}: shows {line.shows}
                </s-text>
                <s-badge tone={line.tone}>{line.note}</s-badge>
                <s-text color="subdued">
                  {line.buffer} · {line.lastWrite}
                </s-text>
              </s-stack>
            ))}
          </s-stack>
        ))}
        {view.footnote && <s-text color="subdued">{view.footnote}</s-text>}
      </s-stack>
    </s-admin-block>
  );
}
