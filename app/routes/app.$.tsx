/**
 * `/app/<anything unknown>`: the styled in-app 404 (inside the admin's frame, with a way back)
 * instead of a bare "Not Found".
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { NotFoundPage } from "../components/not-found";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  throw new Response("Page not found", { status: 404 });
};

export function ErrorBoundary() {
  return <NotFoundPage what="page" back={{ content: "Overview", url: "/app" }} />;
}

export default function UnknownPage() {
  return null;
}
