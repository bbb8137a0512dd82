/**
 * A stand-in for https://cdn.shopify.com/shopifycloud/app-bridge.js, for the sandbox only: the
 * browser tests serve it through Playwright's `page.route`, and the demo serves it from
 * `/sandbox/app-bridge.js` (never in production, see app/sandbox/sandbox.server.ts). It does what
 * the pages rely on and nothing more:
 *
 * - `window.shopify` with `idToken()` (a fresh session token minted outside the page: by the test
 *   process through the `__mintIdToken` binding, or by `/sandbox/id-token` in the demo), `toast.show` (kept
 *   in `window.__appBridgeToasts` for the tests), `loading`, `config`, `environment`;
 * - `fetch` to the app's own origin carries `Authorization: Bearer <session token>`, as the real
 *   App Bridge does, so Remix data requests and form actions authenticate like in the admin;
 * - the bounce page (`/auth/session-token?shopify-reload=…`) reloads with an `id_token`;
 * - `ui-nav-menu`, `ui-title-bar`, `ui-modal`, `ui-save-bar` are inert, hidden elements (the
 *   admin renders them outside the app's iframe).
 */
export const APP_BRIDGE_STUB = String.raw`
(function () {
  var script = document.currentScript;
  var apiKey = script && script.getAttribute("data-api-key");
  var params = new URLSearchParams(location.search);
  // Toasts are kept for the tests to read (the real ones render outside the app's iframe).
  var toasts = (window.__appBridgeToasts = []);
  var nativeFetchForTokens = window.fetch.bind(window);
  function idToken() {
    // Browser tests mint tokens in the test process; the demo asks the sandbox route.
    if (window.__mintIdToken) return window.__mintIdToken();
    return nativeFetchForTokens("/sandbox/id-token?shop=" + encodeURIComponent(params.get("shop") || ""))
      .then(function (r) { return r.text(); });
  }
  var shopify = {
    config: { apiKey: apiKey, shop: params.get("shop"), host: params.get("host") },
    environment: { embedded: true, mobile: false, pos: false },
    idToken: idToken,
    loading: function (on) { window.__appBridgeLoading = Boolean(on); },
    toast: {
      show: function (message, options) {
        var id = "toast-" + (toasts.length + 1);
        toasts.push({ id: id, message: message, isError: Boolean(options && options.isError) });
        return id;
      },
      hide: function () {},
    },
  };
  window.shopify = shopify;

  var nativeFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var request = new Request(input, init);
    if (new URL(request.url, location.href).origin !== location.origin) return nativeFetch(request);
    return idToken().then(function (token) {
      var headers = new Headers(request.headers);
      headers.set("Authorization", "Bearer " + token);
      return nativeFetch(new Request(request, { headers: headers }));
    });
  };

  if (location.pathname === "/auth/session-token" && params.get("shopify-reload")) {
    idToken().then(function (token) {
      var target = new URL(params.get("shopify-reload"), location.href);
      target.searchParams.set("id_token", token);
      location.replace(target.toString());
    });
  }

  // Hidden through a stylesheet, not a style attribute: changing the server-rendered elements'
  // attributes before hydration would make React report a mismatch.
  var hide = document.createElement("style");
  hide.textContent = "ui-nav-menu, ui-title-bar, ui-modal, ui-save-bar { display: none !important; }";
  document.head.appendChild(hide);
  ["ui-nav-menu", "ui-title-bar", "ui-modal", "ui-save-bar"].forEach(function (name) {
    if (!customElements.get(name)) customElements.define(name, class extends HTMLElement {});
  });
})();
`;
