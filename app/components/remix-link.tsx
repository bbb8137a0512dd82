/**
 * Polaris links and buttons with a `url` navigate through Remix (client-side, the session token
 * on the data request) — what shopify-app-remix's AppProvider does in the admin; the sandbox
 * shell's Polaris provider uses it too.
 */
import { Link } from "@remix-run/react";
import type { AppProvider } from "@shopify/polaris";
import { forwardRef, type ComponentProps } from "react";

type LinkLikeComponent = NonNullable<ComponentProps<typeof AppProvider>["linkComponent"]>;
type LinkLikeProps = ComponentProps<LinkLikeComponent>;

export const RemixPolarisLink = forwardRef<HTMLAnchorElement, LinkLikeProps>(
  function RemixPolarisLink({ url, external, ...rest }, ref) {
    if (external) {
      return <a {...rest} href={url} target="_blank" rel="noopener noreferrer" ref={ref} />;
    }
    return <Link {...rest} to={url} ref={ref} />;
  },
) as unknown as LinkLikeComponent;
