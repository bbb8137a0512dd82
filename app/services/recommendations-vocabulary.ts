/**
 * Words shared by the Recommended buffers page and its server side (no server code, so the
 * page's browser bundle may import it): the service levels a merchant can choose.
 */
export const SERVICE_LEVELS = ["0.9", "0.95", "0.975", "0.99", "0.995", "0.999"] as const;
