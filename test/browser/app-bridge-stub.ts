/**
 * A stand-in for https://cdn.shopify.com/shopifycloud/app-bridge.js (unreachable here), served
 * through Playwright's `page.route`. It does what the pages rely on and nothing more:
 *
 * - `window.shopify` with `idToken()` (a fresh session token minted by the test process through
 *   the `__mintIdToken` binding, so the API secret never enters the page), `toast.show` (toasts
 *   are written to a `[data-testid=toasts]` list the tests can read), `loading`, `config`;
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
  var toasts = [];
  function idToken() {
    return window.__mintIdToken();
  }
  function renderToasts() {
    var list = document.querySelector("[data-testid=toasts]");
    if (!list) {
      list = document.createElement("ul");
      list.setAttribute("data-testid", "toasts");
      list.setAttribute("role", "status");
      list.style.cssText = "position:fixed;bottom:8px;left:50%;transform:translateX(-50%);margin:0;padding:0;list-style:none;z-index:1000;font:14px system-ui";
      document.body.appendChild(list);
    }
    list.innerHTML = "";
    toasts.forEach(function (t) {
      var li = document.createElement("li");
      li.textContent = t.message;
      li.setAttribute("data-error", String(Boolean(t.isError)));
      li.style.cssText = "background:" + (t.isError ? "#8e1f0b" : "#303030") + ";color:#fff;padding:8px 16px;border-radius:8px;margin-top:4px";
      list.appendChild(li);
    });
  }
  var shopify = {
    config: { apiKey: apiKey, shop: params.get("shop"), host: params.get("host") },
    environment: { embedded: true, mobile: false, pos: false },
    idToken: idToken,
    loading: function (on) { document.documentElement.dataset.appBridgeLoading = String(Boolean(on)); },
    toast: {
      show: function (message, options) {
        var id = "toast-" + (toasts.length + 1);
        toasts.push({ id: id, message: message, isError: options && options.isError });
        renderToasts();
        return id;
      },
      hide: function (id) {
        toasts = toasts.filter(function (t) { return t.id !== id; });
        renderToasts();
      },
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

  ["ui-nav-menu", "ui-title-bar", "ui-modal", "ui-save-bar"].forEach(function (name) {
    if (!customElements.get(name)) {
      customElements.define(name, class extends HTMLElement {
        connectedCallback() { this.style.display = "none"; }
      });
    }
  });
})();
`;
