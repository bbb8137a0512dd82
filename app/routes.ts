/** Remix route config: the flat file routes under app/routes, test files and dotfiles excepted. */
import { flatRoutes } from "@remix-run/fs-routes";

export default flatRoutes({ ignoredRouteFiles: ["**/*.test.ts", "**/*.test.tsx", "**/.*"] });
