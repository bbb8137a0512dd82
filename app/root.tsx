/**
 * The root document every page renders in: the HTML shell, Remix's meta, links and scripts, and
 * the last-resort error page (a styled 404 or error with a way back into the app) for anything
 * no page's own boundary answered.
 */
import {
  isRouteErrorResponse,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteError,
} from "@remix-run/react";
import type { ReactNode } from "react";

function Document(props: { children: ReactNode; title?: string }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <link rel="preconnect" href="https://cdn.shopify.com/" />
        {props.title && <title>{props.title}</title>}
        <Meta />
        <Links />
      </head>
      <body>
        {props.children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return (
    <Document>
      <Outlet />
    </Document>
  );
}

const box = {
  maxWidth: 560,
  margin: "64px auto",
  padding: "24px 28px",
  borderRadius: 12,
  background: "#fff",
  boxShadow: "0 1px 3px rgba(0,0,0,.15)",
  fontFamily:
    "-apple-system, BlinkMacSystemFont, 'San Francisco', 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif",
  color: "#303030",
} as const;

/** Outside any page's boundary: a styled page in plain HTML (no app frame to rely on). */
export function ErrorBoundary() {
  const error = useRouteError();
  const missing = isRouteErrorResponse(error) && error.status === 404;
  const title = missing ? "Page not found" : "Something went wrong";
  return (
    <Document title={`${title} · StockGuard`}>
      <div style={{ background: "#f1f1f1", minHeight: "100vh", padding: 1 }}>
        <div style={box} data-testid="error-page" data-status={missing ? 404 : 500}>
          <h1 style={{ fontSize: 20, margin: "0 0 8px" }}>{title}</h1>
          <p style={{ margin: "0 0 16px", color: "#616161" }}>
            {missing
              ? "There is no StockGuard page at this address. Nothing was changed."
              : "StockGuard hit an unexpected error showing this page. Nothing was changed; try again in a moment."}
          </p>
          <a
            href="/app"
            style={{
              display: "inline-block",
              padding: "6px 12px",
              borderRadius: 8,
              background: "#303030",
              color: "#fff",
              textDecoration: "none",
            }}
          >
            Back to StockGuard
          </a>
        </div>
      </div>
    </Document>
  );
}
