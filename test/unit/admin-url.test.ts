import { describe, expect, it } from "vitest";
import {
  adminGraphqlUrl,
  rewriteAdminUrl,
  rewritingFetch,
} from "../../app/channels/shopify/admin-url.server";

describe("SHOPIFY_ADMIN_API_ORIGIN rewriting", () => {
  it("sends https://{shop}/admin/… to {origin}/{shop}/admin/…", () => {
    expect(
      rewriteAdminUrl(
        "https://a.myshopify.com/admin/api/2026-10/graphql.json",
        "http://127.0.0.1:9000/",
      ),
    ).toBe("http://127.0.0.1:9000/a.myshopify.com/admin/api/2026-10/graphql.json");
    expect(
      rewriteAdminUrl("https://a.myshopify.com/admin/oauth/access_token?x=1", "http://h:1"),
    ).toBe("http://h:1/a.myshopify.com/admin/oauth/access_token?x=1");
  });

  it("leaves other URLs and an unset origin alone", () => {
    expect(rewriteAdminUrl("https://cdn.shopify.com/admin/x", undefined)).toBe(
      "https://cdn.shopify.com/admin/x",
    );
    expect(rewriteAdminUrl("https://a.myshopify.com/products", "http://h:1")).toBe(
      "https://a.myshopify.com/products",
    );
    expect(adminGraphqlUrl("a.myshopify.com", undefined)).toBe(
      "https://a.myshopify.com/admin/api/2026-10/graphql.json",
    );
  });

  it("keeps method, headers and body when rewriting a Request", async () => {
    const seen: Request[] = [];
    const fetchImpl = rewritingFetch("http://h:1", async (input) => {
      seen.push(input as Request);
      return new Response("{}");
    });
    await fetchImpl(
      new Request("https://a.myshopify.com/admin/api/2026-10/graphql.json", {
        method: "POST",
        headers: { "X-Shopify-Access-Token": "shpat_x" },
        body: '{"query":"{shop{name}}"}',
      }),
    );
    const request = seen[0]!;
    expect(request.url).toBe("http://h:1/a.myshopify.com/admin/api/2026-10/graphql.json");
    expect(request.method).toBe("POST");
    expect(request.headers.get("x-shopify-access-token")).toBe("shpat_x");
    expect(await request.text()).toBe('{"query":"{shop{name}}"}');
  });
});
