/**
 * `/app`: the embedded admin's layout route: authenticates every admin page, provides App
 * Bridge and Polaris, draws the navigation (drawn here in the sandbox, which has no Shopify admin
 * around the app), and lets Shopify's boundary handle thrown responses.
 */
import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import {
  Link,
  Outlet,
  useLoaderData,
  useRouteError,
  type ShouldRevalidateFunction,
} from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import { AppProvider as PolarisAppProvider, InlineStack, Text } from "@shopify/polaris";
import polarisTranslations from "@shopify/polaris/locales/en.json";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import { boundary } from "@shopify/shopify-app-remix/server";
import type { ReactNode } from "react";
import { AlertBanner } from "../components/alert-banner";
import { RemixPolarisLink } from "../components/remix-link";
import { shopifyEnv } from "../env.server";
import { sandboxEnabled } from "../sandbox/sandbox.server";
import { openAlertsForBanner } from "../services/alerts/banner.server";
import { authenticate } from "../shopify.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  // Open alerts (issue 13): a banner above every page until the condition clears.
  const alerts = await openAlertsForBanner(session.shop);
  return { apiKey: shopifyEnv().SHOPIFY_API_KEY, sandbox: sandboxEnabled(), alerts };
};

const PAGES = [
  { to: "/app", label: "Overview" },
  { to: "/app/channels", label: "Channels" },
  { to: "/app/inventory", label: "Inventory" },
  { to: "/app/rules", label: "Buffer rules" },
  { to: "/app/recommendations", label: "Recommended buffers" },
  { to: "/app/bundles", label: "Bundles" },
  { to: "/app/unmatched", label: "Unmatched lines" },
  { to: "/app/incidents", label: "Incidents" },
  { to: "/app/counts", label: "Cycle counts" },
  { to: "/app/risks", label: "Risk checks" },
  { to: "/app/health", label: "Sync health" },
  { to: "/app/settings", label: "Settings" },
];

/**
 * A preview (`step=preview`: a stock change, a rule change) writes nothing: the layout keeps its
 * data instead of reloading it after every keystroke's preview.
 */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) => (formData?.get("step") === "preview" ? false : defaultShouldRevalidate);

export default function App() {
  const { apiKey, sandbox, alerts } = useLoaderData<typeof loader>();
  const nav = (
    <NavMenu>
      {PAGES.map((p, i) => (
        <Link key={p.to} to={p.to} rel={i === 0 ? "home" : undefined}>
          {p.label}
        </Link>
      ))}
    </NavMenu>
  );
  if (sandbox)
    return (
      <SandboxShell apiKey={apiKey} banner={<AlertBanner alerts={alerts} />}>
        {nav}
      </SandboxShell>
    );
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey}>
      {nav}
      <AlertBanner alerts={alerts} />
      <Outlet />
    </AppProvider>
  );
}

/**
 * The demo has no Shopify admin around the app: App Bridge comes from the sandbox stand-in
 * (`/sandbox/app-bridge.js`), and the navigation the admin would draw is drawn here.
 */
function SandboxShell({
  apiKey,
  banner,
  children,
}: {
  apiKey: string;
  banner: ReactNode;
  children: ReactNode;
}) {
  return (
    <>
      <script src="/sandbox/app-bridge.js" data-api-key={apiKey} />
      <PolarisAppProvider i18n={polarisTranslations} linkComponent={RemixPolarisLink}>
        {children}
        <div
          style={{ padding: "12px 20px", borderBottom: "1px solid #e3e3e3", background: "#f1f1f1" }}
        >
          <InlineStack gap="400" blockAlign="center" wrap>
            <Text as="span" fontWeight="bold">
              StockGuard (sandbox)
            </Text>
            {PAGES.map((p) => (
              <Link key={p.to} to={p.to}>
                {p.label}
              </Link>
            ))}
          </InlineStack>
        </div>
        {banner}
        <Outlet />
      </PolarisAppProvider>
    </>
  );
}

// Shopify needs Remix to catch some thrown responses so their headers reach the browser.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
