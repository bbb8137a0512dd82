/** `/sandbox/app-bridge.js`: the App Bridge stand-in for the demo (404 outside the sandbox). */
import { APP_BRIDGE_STUB } from "../sandbox/app-bridge-stub";
import { requireSandbox } from "../sandbox/sandbox.server";

export const loader = async () => {
  requireSandbox();
  return new Response(APP_BRIDGE_STUB, {
    headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store" },
  });
};
